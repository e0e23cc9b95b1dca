-- The current periodic review of each commune and review year: a correction is a new file,
-- and the newest accepted one supersedes the earlier ones (contract: "Where and how it arrives").
-- The commune code is resolved twice: to the unit valid on the review date (31 Dec of the
-- review year) and to the unit holding that territory today. A review sent under a code closed
-- by then (accepted with a warning) counts for the unit of the review date: unit_commune_code,
-- the key of every commune-level figure; is_unit_own_review tells the unit's own review (sent
-- under its own code) from one sent for part of its territory under a closed code.

with

submissions as (

    select * from {{ ref('stg_commune_reviews__submissions') }}

),

accepted_periodic_reviews as (

    select
        submission_id,
        commune_code,
        province_code,
        review_year,
        applied_standard_code,
        prepared_on,
        received_at,
        submission_status,
        row_number() over (
            partition by commune_code, review_year
            order by received_at desc, submission_id desc
        ) as recency_rank,
        count(*) over (partition by commune_code, review_year) as accepted_submission_count
    from submissions
    where
        review_type = 'dinh_ky'
        and submission_status in ('accepted', 'accepted_with_warnings')

),

code_periods as (

    select * from {{ ref('int_commune_code_periods') }}

),

current_reviews as (

    select
        *,
        {{ review_date('review_year') }} as review_date
    from accepted_periodic_reviews
    where recency_rank = 1

),

final as (

    select
        current_reviews.commune_code,
        current_reviews.review_year,
        current_reviews.review_date,
        current_reviews.submission_id,
        current_reviews.province_code,
        on_review_date.commune_version_key as review_commune_version_key,
        on_review_date.commune_code as review_commune_code,
        on_review_date.district_code as review_district_code,
        on_review_date.merged_on as merged_on,
        coalesce(on_review_date.commune_code, current_reviews.commune_code) as unit_commune_code,
        coalesce(on_review_date.commune_code, current_reviews.commune_code)
        = current_reviews.commune_code as is_unit_own_review,
        today.commune_code as current_commune_code,
        current_reviews.applied_standard_code,
        current_reviews.prepared_on,
        current_reviews.received_at,
        current_reviews.submission_status,
        current_reviews.accepted_submission_count
    from current_reviews
    left join code_periods as on_review_date
        on
            current_reviews.commune_code = on_review_date.submitted_code
            and {{ within_period(
                'current_reviews.review_date', 'on_review_date.period_from', 'on_review_date.period_to'
            ) }}
    left join code_periods as today
        on
            current_reviews.commune_code = today.submitted_code
            and today.period_to is null

)

select * from final
