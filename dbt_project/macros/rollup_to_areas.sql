{#-
    Commune rows → commune, district, province and current-commune rows (the figures of an
    area are sums over its communes, and rates are computed afterwards from the summed counts,
    never averaged).

    commune_rows: a CTE with one row per commune and `group_by` values — commune_code being
    the unit of the review date (a review sent under a code closed by a merger is already
    counted for the unit that took the code in: int_unit_reviews) — with district_code,
    province_code, current_commune_code, the `group_by` columns (review_year among them) and
    the `sums` columns (counts). Returns area_level, area_code, parent_area_code, the
    `group_by` columns, communes_reporting (the communes counted, units not codes; only the
    rows where `reporting` holds, for a mart that also has rows of communes without a review)
    and every `sums` column summed (bigint). Levels:
      commune          the unit of the review date (its parent: its district, or the province
                       from 1 Jul 2025, when districts were abolished)
      district         the districts, for the years they existed
      province         the province
      current_commune  today's communes, each holding the territory of the communes merged
                       into it: comparable series across the 2024 and 2025 reorganisations
                       (parent: the province)
-#}
{% macro rollup_to_areas(commune_rows, group_by, sums, reporting='true') %}
{%- set levels = [
    ('commune', 'commune_code', 'coalesce(min(district_code), min(province_code))'),
    ('district', 'district_code', 'min(province_code)'),
    ('province', 'province_code', 'null::text'),
    ('current_commune', 'current_commune_code', 'min(province_code)'),
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
        count(distinct commune_code) filter (where {{ reporting }}) as communes_reporting
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
    The name of every area of rollup_to_areas as it was on a day: (area_level, area_code,
    area_name, valid_from, valid_to). Join on level, code and the review date
    (area_name_on); a current commune's name is today's; the province rows' names are data
    (ref_province_area_names: "Tiền Giang (cũ), nay thuộc tỉnh Đồng Tháp" from 1 Jul 2025).
-#}
{% macro area_names() %}
    select
        'commune'::text as area_level,
        commune_code as area_code,
        commune_name as area_name,
        valid_from,
        valid_to
    from {{ ref('dim_commune') }}
    union all
    select 'district'::text, district_code, district_name, min(valid_from), max(valid_to)
    from {{ ref('dim_commune') }}
    where district_code is not null
    group by district_code, district_name
    union all
    -- named for the territory the rows cover (ref_province_area_names): from 1 Jul 2025 the
    -- former Tiền Giang within the new Đồng Tháp
    select 'province'::text, province_code, area_name, valid_from, valid_to
    from {{ ref('ref_province_area_names') }}
    union all
    select 'current_commune'::text, commune_code, commune_name, '-infinity'::date, null::date
    from {{ ref('dim_commune') }}
    where is_current
{% endmacro %}


{#- The join condition of area rows (with review_year) on area_names. -#}
{% macro area_name_on(area_rows, area_names) %}
    {{ area_rows }}.area_level = {{ area_names }}.area_level
    and {{ area_rows }}.area_code = {{ area_names }}.area_code
    and {{ within_period(review_date(area_rows ~ '.review_year'),
                         area_names ~ '.valid_from', area_names ~ '.valid_to') }}
{% endmacro %}


{#-
    rollup_to_areas, each row with its area's name on the review date (area_name, from
    area_names): the area rows every area mart reports. Arguments as rollup_to_areas.
-#}
{% macro rollup_to_named_areas(commune_rows, group_by, sums, reporting='true') %}
    select
        area_rows.*,
        area_names.area_name as area_name
    from (
        {{ rollup_to_areas(commune_rows, group_by, sums, reporting) }}
    ) as area_rows
    left join (
        {{ area_names() }}
    ) as area_names
        on {{ area_name_on('area_rows', 'area_names') }}
{% endmacro %}


{#- The columns naming an area row (of rollup_to_named_areas, or of a mart built on one), each
    taken from `relation` when given. -#}
{% macro area_columns(relation=none) -%}
    {%- for column in ['area_level', 'area_code', 'area_name', 'parent_area_code'] %}
        {{ relation ~ '.' ~ column ~ ' as ' ~ column if relation else column }}
        {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
