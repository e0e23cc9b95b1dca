-- What each commune claimed in its current periodic review against the warehouse's
-- recomputation, per commune and review year: the counts of its summary (tong_hop), of its
-- own household list (phan_loai_cua_xa) and recomputed under the standard it applied, and
-- how many discrepancies of each kind rpt_submission_discrepancies lists.

with

current_reviews as (

    select
        commune_code,
        review_year,
        review_district_code,
        current_commune_code,
        submission_id,
        applied_standard_code
    from {{ ref('int_commune_reviews_current') }}

),

area_totals as (

    select
        submission_id,
        total_households,
        reported_poor_households,
        reported_near_poor_households
    from {{ ref('stg_commune_reviews__area_totals') }}

),

households as (

    select
        submission_id,
        commune_classification
    from {{ ref('stg_commune_reviews__households') }}

),

classified as (

    select
        submission_id,
        classification,
        classification_method,
        commune_classification
    from {{ ref('int_households_classified') }}
    where is_commune_applied_standard

),

discrepancies as (

    select
        submission_id,
        check_type
    from {{ ref('int_submission_discrepancies') }}

),

claimed as (

    select
        submission_id,
        sum(total_households) as reported_total_households,
        sum(reported_poor_households) as reported_poor_households,
        sum(reported_near_poor_households) as reported_near_poor_households
    from area_totals
    group by submission_id

),

listed as (

    select
        submission_id,
        count(*) as listed_households,
        count(*) filter (where commune_classification = 'poor') as listed_poor_households,
        count(*) filter (where commune_classification = 'near_poor')
            as listed_near_poor_households
    from households
    group by submission_id

),

recomputed as (

    select
        submission_id,
        count(*) filter (where classification = 'poor') as recomputed_poor_households,
        count(*) filter (where classification = 'near_poor') as recomputed_near_poor_households,
        count(*) filter (where classification_method = 'exact') as households_compared,
        count(*) filter (
            where classification_method = 'exact'
            and commune_classification is not null
            and classification <> commune_classification
        ) as households_classified_differently
    from classified
    group by submission_id

),

discrepancy_counts as (

    select
        submission_id,
        count(*) filter (where check_type = 'rate_vs_count') as rate_discrepancies,
        count(*) filter (where check_type = 'count_vs_list') as count_discrepancies,
        count(*) filter (where check_type = 'classification') as classification_discrepancies,
        count(*) filter (where check_type = 'duplicate_household') as duplicate_households,
        count(*) as discrepancies
    from discrepancies
    group by submission_id

),

final as (

    select
        current_reviews.commune_code as commune_code,
        current_reviews.review_district_code as district_code,
        current_reviews.current_commune_code as current_commune_code,
        current_reviews.review_year as review_year,
        current_reviews.submission_id as submission_id,
        outcomes.submission_status as submission_status,
        current_reviews.applied_standard_code as applied_standard_code,
        claimed.reported_total_households as reported_total_households,
        claimed.reported_poor_households as reported_poor_households,
        claimed.reported_near_poor_households as reported_near_poor_households,
        coalesce(listed.listed_households, 0) as listed_households,
        coalesce(listed.listed_poor_households, 0) as listed_poor_households,
        coalesce(listed.listed_near_poor_households, 0) as listed_near_poor_households,
        coalesce(recomputed.recomputed_poor_households, 0) as recomputed_poor_households,
        coalesce(recomputed.recomputed_near_poor_households, 0)
            as recomputed_near_poor_households,
        trim_scale(
            coalesce(recomputed.recomputed_poor_households, 0)::numeric
            / nullif(claimed.reported_total_households, 0)
        ) as recomputed_poor_rate,
        trim_scale(
            coalesce(recomputed.recomputed_near_poor_households, 0)::numeric
            / nullif(claimed.reported_total_households, 0)
        ) as recomputed_near_poor_rate,
        claimed.reported_poor_households - coalesce(recomputed.recomputed_poor_households, 0)
            as poor_households_difference,
        claimed.reported_near_poor_households
        - coalesce(recomputed.recomputed_near_poor_households, 0)
            as near_poor_households_difference,
        coalesce(recomputed.households_compared, 0) as households_compared,
        coalesce(recomputed.households_classified_differently, 0)
            as households_classified_differently,
        coalesce(discrepancy_counts.rate_discrepancies, 0) as rate_discrepancies,
        coalesce(discrepancy_counts.count_discrepancies, 0) as count_discrepancies,
        coalesce(discrepancy_counts.classification_discrepancies, 0)
            as classification_discrepancies,
        coalesce(discrepancy_counts.duplicate_households, 0) as duplicate_households,
        coalesce(discrepancy_counts.discrepancies, 0) as discrepancies,
        coalesce(discrepancy_counts.discrepancies, 0) > 0 as has_discrepancies
    from current_reviews
    inner join {{ ref('int_submission_outcomes') }} as outcomes
        on current_reviews.submission_id = outcomes.submission_id
    left join claimed
        on current_reviews.submission_id = claimed.submission_id
    left join listed
        on current_reviews.submission_id = listed.submission_id
    left join recomputed
        on current_reviews.submission_id = recomputed.submission_id
    left join discrepancy_counts
        on current_reviews.submission_id = discrepancy_counts.submission_id

)

select * from final
