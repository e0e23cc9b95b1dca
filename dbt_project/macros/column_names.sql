{#- The names of the columns of `relation` in the warehouse as it stands when the query runs (a
    test checking that the names a seed gives are columns of a model). -#}
{% macro column_names(relation) %}
    select column_name::text as column_name
    from information_schema.columns
    where
        table_schema = '{{ relation.schema }}'
        and table_name = '{{ relation.identifier }}'
{% endmacro %}
