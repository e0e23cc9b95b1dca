-- The district, province and current-commune rows of the area marts built with
-- rollup_to_areas equal the sums of their communes' rows (figures of an area are sums over
-- its communes; rates come from the sums). A commune's district, province and
-- current commune are taken from fct_poverty_indicators.
-- Returns, per mart, the area rows missing or differing from the sums of their communes.

{%- set marts = [
    ('rpt_review_summary', ['review_year', 'standard_code', 'area_type'], [
        'communes_compared', 'total_households', 'poor_start', 'poor_escaped',
        'near_poor_to_poor', 'newly_poor', 're_poor', 'poor_left_review',
        'poor_to_unclassifiable', 'poor_not_compared', 'poor_not_reviewed', 'poor_end',
        'near_poor_start', 'near_poor_escaped', 'newly_near_poor', 're_near_poor',
        'near_poor_left_review', 'near_poor_to_unclassifiable', 'near_poor_not_compared',
        'near_poor_not_reviewed', 'near_poor_end',
    ]),
    ('rpt_alkire_foster_indicators_by_area', ['review_year', 'standard_code', 'indicator_code'], [
        'total_households', 'total_members', 'poor_households', 'poor_members',
        'poor_deprived_households', 'poor_deprived_members', 'near_poor_deprived_households',
    ]),
    ('rpt_household_profiles_by_area', [
        'review_year', 'standard_code', 'characteristic_type', 'characteristic_code'
    ], [
        'all_poor_households', 'all_near_poor_households', 'poor_households',
        'near_poor_households', 'poor_members', 'near_poor_members',
    ]),
] %}

with

commune_provinces as (

    select distinct
        commune_code,
        review_year,
        district_code,
        province_code,
        current_commune_code
    from {{ ref('fct_poverty_indicators') }}

    union

    -- the communes of the review summary that sent no review (households not reviewed)
    select distinct
        summary.area_code,
        summary.review_year,
        communes.district_code,
        communes.province_code,
        communes.current_commune_code
    from {{ ref('rpt_review_summary') }} as summary
    inner join {{ ref('dim_commune') }} as communes
        on
            summary.area_code = communes.commune_code
            and {{ within_period(review_date('summary.review_year'), 'communes.valid_from', 'communes.valid_to') }}
    where summary.area_level = 'commune' and summary.communes_reporting = 0

),

{%- for mart, keys, sums in marts %}

{{ mart }}_communes as (

    select
        mart.*,
        commune_provinces.district_code as district_code,
        commune_provinces.province_code as province_code,
        commune_provinces.current_commune_code as current_commune_code
    from {{ ref(mart) }} as mart
    inner join commune_provinces
        on
            mart.area_code = commune_provinces.commune_code
            and mart.review_year = commune_provinces.review_year
    where mart.area_level = 'commune'

),

{{ mart }}_expected as (

    {%- for level, parent in [
        ('district', 'district_code'), ('province', 'province_code'),
        ('current_commune', 'current_commune_code'),
    ] %}
    {{ 'union all' if not loop.first }}
    select
        '{{ level }}' as area_level,
        {{ parent }} as area_code,
        jsonb_build_object(
            {%- for key in keys %}'{{ key }}', {{ key }}{{ ',' if not loop.last }}{% endfor %}
        ) as area_key,
        jsonb_build_object(
            'communes_reporting', sum(communes_reporting)
            {%- for column in sums %}, '{{ column }}', sum({{ column }}){% endfor %}
        ) as figures
    from {{ mart }}_communes
    where {{ parent }} is not null
    group by {{ parent }}{% for key in keys %}, {{ key }}{% endfor %}
    {%- endfor %}

),

{{ mart }}_actual as (

    select
        area_level,
        area_code,
        jsonb_build_object(
            {%- for key in keys %}'{{ key }}', {{ key }}{{ ',' if not loop.last }}{% endfor %}
        ) as area_key,
        jsonb_build_object(
            'communes_reporting', communes_reporting
            {%- for column in sums %}, '{{ column }}', {{ column }}{% endfor %}
        ) as figures
    from {{ ref(mart) }}
    where area_level in ('district', 'province', 'current_commune')

),

{{ mart }}_mismatches as (

    (select '{{ mart }}' as mart, 'missing or different' as failure, * from {{ mart }}_expected
     except
     select '{{ mart }}' as mart, 'missing or different' as failure, * from {{ mart }}_actual)
    union all
    (select '{{ mart }}' as mart, 'not the sum of its communes' as failure, * from {{ mart }}_actual
     except
     select '{{ mart }}' as mart, 'not the sum of its communes' as failure, * from {{ mart }}_expected)

),
{%- endfor %}

mismatches as (

    {%- for mart, keys, sums in marts %}
    {{ 'union all' if not loop.first }}
    select * from {{ mart }}_mismatches
    {%- endfor %}

)

select * from mismatches
