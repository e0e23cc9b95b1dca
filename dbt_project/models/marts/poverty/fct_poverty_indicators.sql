-- Poverty indicators of each commune, review year and standard, the commune being the unit of
-- the review date (31 Dec of the year): a review sent under a code closed by a merger counts
-- for the unit that took the code in, beside the unit's own review if it sent one, and a
-- household listed by both counts once (int_review_households). Holds numerators and
-- denominators so rates re-aggregate up the hierarchy (rpt_poverty_indicators_by_area). Each
-- unit is also resolved to its district (while districts existed) and to the unit holding its
-- territory today, for series on the old districts and on today's communes.
-- Rates: poor households / all resident households of the commune (tong_so_ho of its summary,
-- not the reviewed list); MOLISA's multidimensional poverty rate = (poor + near-poor) / all
-- households.

with

unit_reviews as (

    select
        commune_code,
        review_year,
        review_date,
        submission_id,
        submission_count,
        submitted_commune_codes,
        province_code,
        district_code,
        current_commune_code
    from {{ ref('int_unit_reviews') }}

),

area_totals as (

    select
        commune_code,
        review_year,
        total_households,
        total_members
    from {{ ref('int_unit_area_totals') }}

),

classified as (

    select
        commune_code,
        review_year,
        standard_code,
        member_count,
        classification,
        classification_method
    from {{ ref('int_households_classified') }}

),

standards as (

    select
        standard_code,
        first_review_year,
        last_review_year
    from {{ ref('dim_poverty_standard') }}

),

commune_totals as (

    select
        commune_code,
        review_year,
        sum(total_households) as total_households,
        sum(total_members) as total_members
    from area_totals
    group by
        commune_code,
        review_year

),

classification_counts as (

    select
        commune_code,
        review_year,
        standard_code,
        count(*) as reviewed_households,
        count(*) filter (where classification = 'poor') as poor_households,
        count(*) filter (where classification = 'near_poor') as near_poor_households,
        coalesce(sum(member_count) filter (where classification = 'poor'), 0) as poor_members,
        coalesce(sum(member_count) filter (where classification = 'near_poor'), 0)
            as near_poor_members,
        count(*) filter (where classification_method = 'exact') as households_classified_exact,
        count(*) filter (where classification_method = 'proxy') as households_classified_proxy,
        count(*) filter (where classification_method = 'unclassifiable')
            as households_unclassifiable
    from classified
    group by
        commune_code,
        review_year,
        standard_code

),

commune_standards as (

    select
        unit_reviews.commune_code as commune_code,
        unit_reviews.commune_code as review_commune_code,
        unit_reviews.district_code as district_code,
        unit_reviews.province_code as province_code,
        unit_reviews.current_commune_code as current_commune_code,
        unit_reviews.review_year as review_year,
        unit_reviews.review_date as review_date,
        standards.standard_code as standard_code,
        {{ is_official_standard('unit_reviews.review_year') }} as is_official_standard,
        unit_reviews.submission_id as submission_id,
        unit_reviews.submission_count as submission_count,
        unit_reviews.submitted_commune_codes as submitted_commune_codes,
        commune_totals.total_households as total_households,
        commune_totals.total_members as total_members,
        coalesce(classification_counts.reviewed_households, 0) as reviewed_households,
        coalesce(classification_counts.poor_households, 0) as poor_households,
        coalesce(classification_counts.near_poor_households, 0) as near_poor_households,
        coalesce(classification_counts.poor_members, 0) as poor_members,
        coalesce(classification_counts.near_poor_members, 0) as near_poor_members,
        coalesce(classification_counts.households_classified_exact, 0)
            as households_classified_exact,
        coalesce(classification_counts.households_classified_proxy, 0)
            as households_classified_proxy,
        coalesce(classification_counts.households_unclassifiable, 0)
            as households_unclassifiable
    from unit_reviews
    cross join standards
    left join commune_totals
        on
            unit_reviews.commune_code = commune_totals.commune_code
            and unit_reviews.review_year = commune_totals.review_year
    left join classification_counts
        on
            unit_reviews.commune_code = classification_counts.commune_code
            and unit_reviews.review_year = classification_counts.review_year
            and standards.standard_code = classification_counts.standard_code

),

final as (

    select
        commune_code,
        review_commune_code,
        district_code,
        province_code,
        current_commune_code,
        review_year,
        review_date,
        standard_code,
        is_official_standard,
        submission_id,
        submission_count,
        submitted_commune_codes,
        total_households,
        total_members,
        reviewed_households,
        poor_households,
        near_poor_households,
        poor_members,
        near_poor_members,
        -- trim_scale: full precision without trailing zeros (0.03, not 0.0300…)
        trim_scale(poor_households::numeric / nullif(total_households, 0)) as poor_rate,
        trim_scale(near_poor_households::numeric / nullif(total_households, 0))
            as near_poor_rate,
        trim_scale(
            (poor_households + near_poor_households)::numeric / nullif(total_households, 0)
        ) as multidimensional_poverty_rate,
        households_classified_exact,
        households_classified_proxy,
        households_unclassifiable
    from commune_standards

)

select * from final
