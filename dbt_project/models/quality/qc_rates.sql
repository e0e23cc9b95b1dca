-- Every rate of the marts beside its count over its denominator, one row per mart row × rate
-- (the quality gate expects found = expected and found within 0–1).

{%- set rates = [
    {
        'mart': 'fct_poverty_indicators',
        'area_level': "'commune'", 'area_code': 'commune_code', 'review_year': 'review_year',
        'standard_code': 'standard_code', 'detail': "''",
        'rates': [
            ('poor_rate', 'poor_households', 'total_households'),
            ('near_poor_rate', 'near_poor_households', 'total_households'),
            ('multidimensional_poverty_rate', 'poor_households + near_poor_households',
             'total_households'),
        ],
    },
    {
        'mart': 'rpt_poverty_indicators_by_area',
        'area_level': 'area_level', 'area_code': 'area_code', 'review_year': 'review_year',
        'standard_code': 'standard_code', 'detail': "''",
        'rates': [
            ('poor_rate', 'poor_households', 'total_households'),
            ('near_poor_rate', 'near_poor_households', 'total_households'),
            ('multidimensional_poverty_rate', 'poor_households + near_poor_households',
             'total_households'),
        ],
    },
    {
        'mart': 'rpt_review_summary',
        'area_level': 'area_level', 'area_code': 'area_code', 'review_year': 'review_year',
        'standard_code': 'standard_code', 'detail': "'area_type=' || area_type",
        'rates': [
            ('poor_rate', 'poor_end', 'total_households'),
            ('near_poor_rate', 'near_poor_end', 'total_households'),
        ],
    },
    {
        'mart': 'rpt_reporting_rates',
        'area_level': 'rollup_level', 'area_code': 'rollup_code',
        'review_year': 'extract(year from period_start)::integer', 'standard_code': 'null::text',
        'detail': "submission_kind || ' ' || period",
        'rates': [
            ('reporting_rate', 'accepted_count', 'expected_count'),
            ('on_time_rate', 'on_time_count', 'expected_count'),
        ],
    },
] %}

with

final as (

    {% for spec in rates %}
    {%- set outer = loop %}
    {% for rate, numerator, denominator in spec.rates %}
    select
        '{{ spec.mart }}'::text as mart,
        {{ spec.area_level }}::text as area_level,
        {{ spec.area_code }}::text as area_code,
        {{ spec.review_year }} as review_year,
        {{ spec.standard_code }} as standard_code,
        {{ spec.detail }}::text as detail,
        '{{ rate }}'::text as measure,
        {{ rate }}::numeric as found,
        ({{ numerator }})::numeric / nullif({{ denominator }}, 0) as expected
    from {{ ref(spec.mart) }}
    {{ 'union all' if not (loop.last and outer.last) }}
    {% endfor %}
    {% endfor %}

)

select * from final
