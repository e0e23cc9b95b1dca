-- Whether a unit's review of year t can be compared with the year before: some current review
-- of t−1 covers its territory — its own, or one of a commune that merged into it by t's review
-- date (28531's 2023 review for TT Tân Hiệp 2024; Phường 4's 2024 review for Phường Đạo Thạnh
-- 2025). One row per unit of the review date with a review of t (int_unit_reviews), whatever
-- codes its reviews were sent under.

with

unit_reviews as (

    select
        commune_code,
        review_year
    from {{ ref('int_unit_reviews') }}

),

current_reviews as (

    select
        commune_code,
        review_year
    from {{ ref('int_commune_reviews_current') }}

),

code_periods as (

    select
        submitted_code,
        commune_code,
        period_from,
        period_to
    from {{ ref('int_commune_code_periods') }}

),

-- the units of t that hold the territory of a review of t−1
previous_on_territory as (

    select distinct
        territory.commune_code,
        previous.review_year + 1 as review_year
    from current_reviews as previous
    inner join code_periods as territory
        on
            previous.commune_code = territory.submitted_code
            and {{ within_period(
                review_date('previous.review_year + 1'), 'territory.period_from', 'territory.period_to'
            ) }}

),

final as (

    select
        unit_reviews.commune_code,
        unit_reviews.review_year,
        previous_on_territory.commune_code is not null as has_previous_review
    from unit_reviews
    left join previous_on_territory
        on
            unit_reviews.commune_code = previous_on_territory.commune_code
            and unit_reviews.review_year = previous_on_territory.review_year

)

select * from final
