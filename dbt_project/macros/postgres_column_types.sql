{#- dbt-postgres' own macro, except that an array column's type is its element type with [], not
    information_schema's bare "ARRAY": dbt writes the type it reads here into `alter table ... add
    column` (on_schema_change) and into unit-test fixtures, where "ARRAY" is a syntax error
    (dbt-labs/dbt-adapters#664). -#}
{% macro postgres__get_columns_in_relation(relation) -%}
    {% call statement('get_columns_in_relation', fetch_result=True) %}
        select
            column_name,
            case when data_type = 'ARRAY' then ltrim(udt_name, '_') || '[]' else data_type end
                as data_type,
            character_maximum_length,
            numeric_precision,
            numeric_scale
        from {{ relation.information_schema('columns') }}
        where table_name = '{{ relation.identifier }}'
            {% if relation.schema %}
            and table_schema = '{{ relation.schema }}'
            {% endif %}
        order by ordinal_position
    {% endcall %}
    {% set table = load_result('get_columns_in_relation').table %}
    {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}
