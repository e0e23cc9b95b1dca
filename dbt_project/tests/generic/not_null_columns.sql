{#
  Every column listed holds a value in every row: one scan of the model for all of them, where
  dbt's not_null test per column scans it once each and costs a node each. A failure returns
  one row per column that has nulls: the column and how many rows lack a value.
#}
{% test not_null_columns(model, columns) %}
with counted as (
    select
    {%- for column in columns %}
        count(*) - count({{ column }}) as null_rows_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)

select checked.column_name, checked.null_rows
from counted
cross join lateral (
    values
    {%- for column in columns %}
        ('{{ column }}', counted.null_rows_{{ loop.index }}){{ "," if not loop.last }}
    {%- endfor %}
) as checked (column_name, null_rows)
where checked.null_rows > 0
{% endtest %}
