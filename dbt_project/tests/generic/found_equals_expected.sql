{#-
    A check view of models/quality (one row per thing to check, the value found beside the
    value expected) holds: every row found = expected (both null counts as equal). Returns the
    rows that break it, each with the rule's message in Vietnamese and English, so the failure
    names the mart, area, year, standard and measure like the quality gate's report.
-#}
{% test found_equals_expected(model, message_vi, message_en) %}

select
    *,
    '{{ message_vi | replace("'", "''") }} / {{ message_en | replace("'", "''") }}' as failure
from {{ model }}
where found is distinct from expected

{% endtest %}
