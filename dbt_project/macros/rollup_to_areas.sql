{#-
    Commune rows → commune, district and province rows (shared/domain/poverty-standards.md §3:
    the figures of a district or province are sums over its communes, and rates are computed
    afterwards from the summed counts, never averaged).

    commune_rows: a CTE with commune_code, district_code, province_code, the `group_by`
    columns and the `sums` columns (counts). Returns area_level, area_code, parent_area_code,
    the `group_by` columns, communes_reporting and every `sums` column summed (bigint).
    A commune without a district (closed on 1 Nov 2024, not in dim_commune) counts at commune
    and province level only.
-#}
{% macro rollup_to_areas(commune_rows, group_by, sums) %}
{%- set levels = [
    ('commune', 'commune_code', 'min(district_code)'),
    ('district', 'district_code', 'min(province_code)'),
    ('province', 'province_code', 'null::text'),
] %}
{%- for level, key, parent in levels %}
    {{ 'union all' if not loop.first }}
    select
        '{{ level }}'::text as area_level,
        {{ key }} as area_code,
        {{ parent }} as parent_area_code,
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        count(distinct commune_code) as communes_reporting
        {%- for column in sums %},
        sum({{ column }})::bigint as {{ column }}
        {%- endfor %}
    from {{ commune_rows }}
    where {{ key }} is not null
    group by
        {{ key }}
        {%- for column in group_by %},
        {{ column }}
        {%- endfor %}
{%- endfor %}
{% endmacro %}


{#-
    The name of every area of dim_commune as (area_level, area_code, area_name), to join on
    the rows of rollup_to_areas. communes: a CTE with the columns of dim_commune.
-#}
{% macro area_names(communes) %}
    select 'commune'::text as area_level, commune_code as area_code, commune_name as area_name
    from {{ communes }}
    union all
    select distinct 'district'::text, district_code, district_name
    from {{ communes }}
    union all
    select distinct 'province'::text, province_code, province_name
    from {{ communes }}
{% endmacro %}
