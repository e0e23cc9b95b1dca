-- Poverty indicators by commune, district, province and today's commune. Area counts are
-- sums over their communes and rates are recomputed from the summed counts, never averaged.
-- A commune is the unit of the review date (fct_poverty_indicators: a closed code's review
-- counts for its successor). Districts exist for the years before the 2025 reorganisation;
-- the current_commune rows give every year on today's communes.

with

indicators as (

    select * from {{ ref('fct_poverty_indicators') }}

),

area_rows as (

    {{ rollup_to_named_areas(
        'indicators',
        group_by=['review_year', 'standard_code', 'is_official_standard'],
        sums=[
            'submission_count', 'total_households', 'total_members', 'reviewed_households',
            'poor_households', 'near_poor_households', 'poor_members', 'near_poor_members',
            'households_classified_exact', 'households_classified_proxy',
            'households_unclassifiable',
        ],
    ) }}

),

final as (

    select
        {{ area_columns('area_rows') }},
        area_rows.review_year,
        area_rows.standard_code,
        area_rows.is_official_standard,
        area_rows.communes_reporting,
        area_rows.submission_count as submissions_reporting,
        area_rows.total_households,
        area_rows.total_members,
        area_rows.reviewed_households,
        area_rows.poor_households,
        area_rows.near_poor_households,
        area_rows.poor_members,
        area_rows.near_poor_members,
        -- trim_scale: full precision without trailing zeros (0.03, not 0.0300…)
        trim_scale(area_rows.poor_households::numeric / nullif(area_rows.total_households, 0))
            as poor_rate,
        trim_scale(
            area_rows.near_poor_households::numeric / nullif(area_rows.total_households, 0)
        ) as near_poor_rate,
        trim_scale(
            (area_rows.poor_households + area_rows.near_poor_households)::numeric
            / nullif(area_rows.total_households, 0)
        ) as multidimensional_poverty_rate,
        area_rows.households_classified_exact,
        area_rows.households_classified_proxy,
        area_rows.households_unclassifiable
    from area_rows

)

select * from final
