{#-
    The primary key of a model that spans several columns: no column is null and no
    combination occurs twice. (dbt_utils has the same test; the hub is not reachable here.)
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

with
keys as (
    select {{ columns_csv }}
    from {{ model }}
),

null_keys as (
    select
        {{ columns_csv }},
        'null in key' as failure,
        1 as occurrences
    from keys
    where
        {%- for column in combination_of_columns %}
        {{ 'or ' if not loop.first }}{{ column }} is null
        {%- endfor %}
),

duplicate_keys as (
    select
        {{ columns_csv }},
        'duplicate key' as failure,
        count(*) as occurrences
    from keys
    group by {{ columns_csv }}
    having count(*) > 1
)

select * from null_keys
union all
select * from duplicate_keys

{% endtest %}
