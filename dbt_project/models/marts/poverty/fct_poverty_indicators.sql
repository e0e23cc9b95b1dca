-- Poverty indicators of each commune, review year and standard. Holds numerators and
-- denominators so rates re-aggregate up the hierarchy (rpt_poverty_indicators_by_area).
-- Each commune is also resolved to the unit of its review date (its district, while
-- districts existed) and to the unit holding its territory today (dim_commune), for series
-- on the old districts and on today's communes.
-- Rates (shared/domain/poverty-standards.md §3): poor households / all resident households
-- of the commune (tong_so_ho of its summary, not the reviewed list); MOLISA's
-- multidimensional poverty rate = (poor + near-poor) / all households.

with

current_reviews as (

    select
        commune_code,
        review_year,
        review_date,
        submission_id,
        province_code,
        review_commune_code,
        review_district_code,
        current_commune_code
    from {{ ref('int_commune_reviews_current') }}

),

area_totals as (

    select
        submission_id,
        total_households,
        total_members
    from {{ ref('stg_commune_reviews__area_totals') }}

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
        submission_id,
        sum(total_households) as total_households,
        sum(total_members) as total_members
    from area_totals
    group by submission_id

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
        current_reviews.commune_code as commune_code,
        current_reviews.review_commune_code as review_commune_code,
        current_reviews.review_district_code as district_code,
        current_reviews.province_code as province_code,
        current_reviews.current_commune_code as current_commune_code,
        current_reviews.review_year as review_year,
        current_reviews.review_date as review_date,
        standards.standard_code as standard_code,
        current_reviews.review_year
            between standards.first_review_year and standards.last_review_year
            as is_official_standard,
        current_reviews.submission_id as submission_id,
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
    from current_reviews
    cross join standards
    left join commune_totals
        on current_reviews.submission_id = commune_totals.submission_id
    left join classification_counts
        on
            current_reviews.commune_code = classification_counts.commune_code
            and current_reviews.review_year = classification_counts.review_year
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
