{#-
    A custom schema is used as named (staging, intermediate, marts, reference), not prefixed
    with the target schema: the warehouse's schemas are a public interface and
    the BI role is granted on `marts` by name.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
