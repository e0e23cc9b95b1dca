-- The measure marts agree with fct_poverty_indicators and with each other. Returns a row per
-- disagreement (check, keys, the two values):
--   review_summary_end      a reporting commune's end-of-year poor / near-poor households and
--                           resident households (area total) are the indicators' counts of t
--   review_summary_start    a compared commune's start-of-year counts plus those not reviewed
--                           are those of year t−1 of the communes on its territory (itself,
--                           and any merged into it)
--   af_headcount            H of rpt_alkire_foster_by_area is the poor rate of
--                           rpt_poverty_indicators_by_area, and M0 = H × A
--   af_contributions        the contributions of a standard's indicators sum to 1 (M0 > 0)
--   reconciliation_classes  a commune's classification discrepancies are its households
--                           classified differently

with

indicators as (

    select * from {{ ref('fct_poverty_indicators') }}

),

summary as (

    select * from {{ ref('rpt_review_summary') }}
    where area_level = 'commune' and area_type = 'total' and communes_reporting = 1

),

review_summary_end as (

    select
        'review_summary_end' as failure,
        summary.area_code || ' ' || summary.review_year || ' ' || summary.standard_code as area_key,
        jsonb_build_array(summary.poor_end, summary.near_poor_end, summary.total_households)::text
            as mart_value,
        jsonb_build_array(
            indicators.poor_households, indicators.near_poor_households, indicators.total_households
        )::text as expected_value
    from summary
    full outer join indicators
        on
            summary.area_code = indicators.commune_code
            and summary.review_year = indicators.review_year
            and summary.standard_code = indicators.standard_code
    where
        summary.poor_end is distinct from indicators.poor_households
        or summary.near_poor_end is distinct from indicators.near_poor_households
        or summary.total_households is distinct from indicators.total_households

),

previous_on_territory as (

    select
        territory.commune_code,
        previous.review_year + 1 as review_year,
        previous.standard_code,
        sum(previous.poor_households) as poor_households,
        sum(previous.near_poor_households) as near_poor_households
    from indicators as previous
    inner join {{ ref('int_commune_code_periods') }} as territory
        on
            previous.commune_code = territory.submitted_code
            and {{ within_period(review_date('previous.review_year + 1'), 'territory.period_from', 'territory.period_to') }}
    group by territory.commune_code, previous.review_year, previous.standard_code

),

review_summary_start as (

    select
        'review_summary_start' as failure,
        summary.area_code || ' ' || summary.review_year || ' ' || summary.standard_code as area_key,
        jsonb_build_array(
            summary.poor_start + summary.poor_not_reviewed,
            summary.near_poor_start + summary.near_poor_not_reviewed
        )::text as mart_value,
        jsonb_build_array(previous.poor_households, previous.near_poor_households)::text
            as expected_value
    from summary
    inner join previous_on_territory as previous
        on
            summary.area_code = previous.commune_code
            and summary.review_year = previous.review_year
            and summary.standard_code = previous.standard_code
    where
        summary.communes_compared = 1
        and (
            summary.poor_start + summary.poor_not_reviewed <> previous.poor_households
            or summary.near_poor_start + summary.near_poor_not_reviewed
            <> previous.near_poor_households
        )

),

af_headcount as (

    select
        'af_headcount' as failure,
        af.area_level || ' ' || af.area_code || ' ' || af.review_year || ' ' || af.standard_code
            as area_key,
        jsonb_build_array(af.headcount_ratio, af.adjusted_headcount_ratio)::text as mart_value,
        jsonb_build_array(areas.poor_rate, af.headcount_ratio * af.intensity)::text
            as expected_value
    from {{ ref('rpt_alkire_foster_by_area') }} as af
    inner join {{ ref('rpt_poverty_indicators_by_area') }} as areas
        on
            af.area_level = areas.area_level
            and af.area_code = areas.area_code
            and af.review_year = areas.review_year
            and af.standard_code = areas.standard_code
    where
        af.headcount_ratio is distinct from areas.poor_rate
        or abs(af.adjusted_headcount_ratio - af.headcount_ratio * af.intensity) > 1e-15

),

af_contributions as (

    select
        'af_contributions' as failure,
        area_level || ' ' || area_code || ' ' || review_year || ' ' || standard_code as area_key,
        sum(contribution_to_adjusted_headcount)::text as mart_value,
        '1' as expected_value
    from {{ ref('rpt_alkire_foster_indicators_by_area') }}
    group by area_level, area_code, review_year, standard_code
    having
        sum(poor_weighted_deprivations) > 0
        and (
            abs(sum(contribution_to_adjusted_headcount) - 1) > 1e-12
            or abs(sum(contribution_to_adjusted_headcount_persons) - 1) > 1e-12
        )

),

reconciliation_classes as (

    select
        'reconciliation_classes' as failure,
        submission_id as area_key,
        classification_discrepancies::text as mart_value,
        households_classified_differently::text as expected_value
    from {{ ref('rpt_commune_reconciliation') }}
    where classification_discrepancies <> households_classified_differently

)

select * from review_summary_end
union all
select * from review_summary_start
union all
select * from af_headcount
union all
select * from af_contributions
union all
select * from reconciliation_classes
