-- Resident households and persons of each unit, review year and area type (thanh_thi,
-- nong_thon): the sums of tong_hop over the unit's current reviews — except a review that
-- duplicates households another review of the same unit lists (the same territory sent twice,
-- by a closed code and by the unit itself): its households count once, from the other review
-- (int_review_households), and so do its residents, which that review's totals already hold.

with

current_reviews as (

    select
        submission_id,
        unit_commune_code,
        review_year
    from {{ ref('int_commune_reviews_current') }}

),

duplicating_reviews as (

    select distinct submission_id
    from {{ ref('int_review_households') }}
    where
        not is_counted
        and counted_submission_id <> submission_id
        and counted_unit_commune_code = unit_commune_code

),

area_totals as (

    select
        submission_id,
        area_type,
        total_households,
        total_members
    from {{ ref('stg_commune_reviews__area_totals') }}

),

final as (

    select
        current_reviews.unit_commune_code as commune_code,
        current_reviews.review_year as review_year,
        area_totals.area_type as area_type,
        sum(area_totals.total_households) as total_households,
        sum(area_totals.total_members) as total_members,
        count(distinct current_reviews.submission_id) as submissions_counted
    from current_reviews
    inner join area_totals
        on current_reviews.submission_id = area_totals.submission_id
    where current_reviews.submission_id not in (select submission_id from duplicating_reviews)
    group by
        current_reviews.unit_commune_code,
        current_reviews.review_year,
        area_totals.area_type

)

select * from final
