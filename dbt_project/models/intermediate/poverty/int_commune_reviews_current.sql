-- The current periodic review of each commune and review year: a correction is a new file,
-- and the newest accepted one supersedes the earlier ones (contract: "Where and how it arrives").

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

final as (

    select
        commune_code,
        review_year,
        submission_id,
        province_code,
        applied_standard_code,
        prepared_on,
        received_at,
        submission_status,
        accepted_submission_count
    from accepted_periodic_reviews
    where recency_rank = 1

)

select * from final
