-- The stock-flow identities of the review summary, one row per summary row × block (the
-- quality gate expects found = expected):
--   poor_end = poor_start − poor_escaped − poor_left_review − poor_to_unclassifiable
--              + near_poor_to_poor + newly_poor + re_poor + poor_not_compared
--   near_poor_end = near_poor_start − near_poor_escaped − near_poor_to_poor
--              − near_poor_left_review − near_poor_to_unclassifiable
--              + poor_escaped_to_near_poor + newly_near_poor + re_near_poor + near_poor_not_compared

with

summary as (

    select * from {{ ref('rpt_review_summary') }}

),

final as (

    select
        'rpt_review_summary'::text as mart,
        summary.area_level,
        summary.area_code,
        summary.review_year,
        summary.standard_code,
        'area_type=' || summary.area_type as detail,
        identities.measure,
        identities.found,
        identities.expected
    from summary
    cross join lateral (
        values
            (
                'poor_end',
                summary.poor_end::numeric,
                (summary.poor_start - summary.poor_escaped - summary.poor_left_review
                    - summary.poor_to_unclassifiable + summary.near_poor_to_poor
                    + summary.newly_poor + summary.re_poor + summary.poor_not_compared)::numeric
            ),
            (
                'near_poor_end',
                summary.near_poor_end::numeric,
                (summary.near_poor_start - summary.near_poor_escaped - summary.near_poor_to_poor
                    - summary.near_poor_left_review - summary.near_poor_to_unclassifiable
                    + summary.poor_escaped_to_near_poor + summary.newly_near_poor
                    + summary.re_near_poor + summary.near_poor_not_compared)::numeric
            )
    ) as identities (measure, found, expected)

)

select * from final
