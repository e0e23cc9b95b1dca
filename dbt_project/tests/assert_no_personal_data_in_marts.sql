-- Personal data never reaches the marts BI tools read: no marts column carries the name of a
-- source column marked `meta: {contains_pii: true}` (names, citizen IDs, phone numbers), and no
-- marts model documents a column as containing it. A new personal field is marked once on its
-- source and is kept out from then on.

{%- set personal_columns = [] -%}
{%- set marked_in_marts = [] -%}
{%- if execute -%}
    {%- for source in graph.sources.values() -%}
        {%- for column in source.columns.values() if column.meta.get('contains_pii') -%}
            {%- do personal_columns.append(column.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.schema == 'marts' -%}
        {%- for column in node.columns.values() if column.meta.get('contains_pii') -%}
            {%- do marked_in_marts.append((node.name, column.name)) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

select
    table_name::text as model_name,
    column_name::text as column_name
from information_schema.columns
where
    table_schema = 'marts'
    and column_name in (
        {%- for name in personal_columns | unique %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor -%}
        {{- "''" if not personal_columns -}}
    )
{%- for model_name, column_name in marked_in_marts %}
union all
select '{{ model_name }}', '{{ column_name }}'
{%- endfor %}
