-- District, province and current-commune rows of rpt_poverty_indicators_by_area equal the
-- sums of their communes' rows (rates of a district or province come from summed counts).
-- Returns the mismatching area rows.

{#- written out here rather than with the models' rollup_to_areas macro, so that the test checks
    the macro instead of repeating it -#}
{%- set levels = [
    ('district', 'district_code'),
    ('province', 'province_code'),
    ('current_commune', 'current_commune_code'),
] %}
{%- set counts = [
    'total_households', 'total_members', 'reviewed_households', 'poor_households',
    'near_poor_households', 'poor_members', 'near_poor_members', 'households_classified_exact',
    'households_classified_proxy', 'households_unclassifiable',
] %}

with

report as (

    select * from {{ ref('rpt_poverty_indicators_by_area') }}

),

indicators as (

    select
        commune_code,
        district_code,
        province_code,
        current_commune_code,
        review_year,
        standard_code
    from {{ ref('fct_poverty_indicators') }}

),

commune_rows as (

    select
        report.*,
        indicators.district_code as district_code,
        indicators.province_code as province_code,
        indicators.current_commune_code as current_commune_code
    from report
    inner join indicators
        on
            report.area_code = indicators.commune_code
            and report.review_year = indicators.review_year
            and report.standard_code = indicators.standard_code
    where report.area_level = 'commune'

),

expected as (
{% for level, key in levels %}
    {{ 'union all' if not loop.first }}
    select
        '{{ level }}' as area_level,
        {{ key }} as area_code,
        review_year,
        standard_code,
        count(*) as communes_reporting
        {%- for column in counts %},
        sum({{ column }}) as {{ column }}
        {%- endfor %}
    from commune_rows
    where {{ key }} is not null
    group by {{ key }}, review_year, standard_code
{% endfor %}
),

actual as (

    select
        area_level,
        area_code,
        review_year,
        standard_code,
        communes_reporting
        {%- for column in counts %},
        {{ column }}
        {%- endfor %}
    from report
    where area_level in ('district', 'province', 'current_commune')

),

mismatches as (

    (select 'missing or different in report' as failure, * from expected
     except
     select 'missing or different in report' as failure, * from actual)

    union all

    (select 'not the sum of its communes' as failure, * from actual
     except
     select 'not the sum of its communes' as failure, * from expected)

)

select * from mismatches
