{#-
    A stock at the end of a period equals the stock at its start, minus the outflows, plus the
    inflows (poor_end = poor_start − escaped +
    near_poor_to_poor + newly_poor + re_poor, with the terms that keep it exact when
    households leave the review or cannot be classified). `start` and every flow are columns
    of the model. Returns the rows where the identity does not hold, with the end expected and
    what is wrong, in Vietnamese and English.
-#}
{% test stock_flow_identity(model, column_name, start, outflows, inflows) %}

select
    *,
    {{ start }}
    {%- for column in outflows %} - {{ column }}{% endfor %}
    {%- for column in inflows %} + {{ column }}{% endfor %} as expected_end,
    'Số hộ cuối kỳ khác đầu kỳ trừ các luồng ra cộng các luồng vào. / '
    || 'The end-of-year count differs from start minus outflows plus inflows.' as failure
from {{ model }}
where
    {{ column_name }} is distinct from (
        {{ start }}
        {%- for column in outflows %} - {{ column }}{% endfor %}
        {%- for column in inflows %} + {{ column }}{% endfor %}
    )

{% endtest %}
