-- The communes of each review year as the marts count them: one row per unit of the review
-- date with a current periodic review of the year — its own, or one sent under a code closed
-- by a merger for part of its territory (accepted with a warning that the figures count for the
-- unit), or both. The leading review (submission_id) is the unit's own, else the newest.

with

current_reviews as (

    select * from {{ ref('int_commune_reviews_current') }}

),

final as (

    select
        unit_commune_code as commune_code,
        review_year,
        min(review_date) as review_date,
        (array_agg(
            submission_id
            order by is_unit_own_review desc, received_at desc, submission_id desc
        ))[1] as submission_id,
        count(*) as submission_count,
        string_agg(commune_code, ', ' order by commune_code) as submitted_commune_codes,
        bool_or(is_unit_own_review) as has_own_review,
        min(review_commune_version_key) as commune_version_key,
        min(review_district_code) as district_code,
        min(province_code) as province_code,
        min(current_commune_code) as current_commune_code
    from current_reviews
    group by
        unit_commune_code,
        review_year

)

select * from final
