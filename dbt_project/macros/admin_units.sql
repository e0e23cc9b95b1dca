{#- The first day the warehouse's unit history covers (var admin_records_start, the start of
    the 2016–2020 standard's period, before the earliest review year it holds). -#}
{% macro records_start() %}date '{{ var("admin_records_start") }}'{% endmacro %}


{#- The day a review's units are taken at: the last day of its period (31 Dec for the annual
    review, the month's last day for a regular one). -#}
{% macro review_date(review_year, review_month='null') %}
    (make_date({{ review_year }}, coalesce({{ review_month }}, 12), 1)
        + interval '1 month' - interval '1 day')::date
{% endmacro %}


{#- `day` falls in the period valid_from ≤ day < valid_to (valid_to null: still open), the
    convention of dim_commune and int_commune_code_periods. -#}
{% macro within_period(day, valid_from, valid_to) -%}
    ({{ day }} >= {{ valid_from }} and {{ day }} < coalesce({{ valid_to }}, 'infinity'::date))
{%- endmacro %}


{#- A unit's attribute on a version's first day (`day`): its value before `change` (a rename,
    with effective_date and the value before it in `before`) when the version starts before the
    change takes effect, else `current`. -#}
{% macro before_change(change, before, current, day='intervals.valid_from') -%}
    case
        when {{ change }}.effective_date > {{ day }}
            then {{ change }}.{{ before }}
        else {{ current }}
    end
{%- endmacro %}
