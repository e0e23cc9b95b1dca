{#- SCD type 2 rows of the same `key` never cover the same day (valid_from ≤ day < valid_to,
    valid_to null: open). Returns the overlapping pairs. -#}
{% test versions_do_not_overlap(model, key, valid_from='valid_from', valid_to='valid_to') %}

select
    earlier.{{ key }},
    earlier.{{ valid_from }} as earlier_from,
    later.{{ valid_from }} as later_from
from {{ model }} as earlier
inner join {{ model }} as later
    on
        earlier.{{ key }} = later.{{ key }}
        and earlier.{{ valid_from }} < later.{{ valid_from }}
        and coalesce(earlier.{{ valid_to }}, 'infinity'::date) > later.{{ valid_from }}

union all

select
    {{ key }},
    {{ valid_from }},
    {{ valid_from }}
from {{ model }}
group by {{ key }}, {{ valid_from }}
having count(*) > 1

{% endtest %}
