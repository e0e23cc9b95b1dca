-- Nothing silently dropped: every household of every current review has exactly one
-- classification row per standard of the seed and review year — a household listed twice in a
-- year (int_review_households) once. Returns the households that do not.

with

households as (

    select distinct
        households.household_key,
        current_reviews.review_year
    from {{ ref('stg_commune_reviews__households') }} as households
    inner join {{ ref('int_commune_reviews_current') }} as current_reviews
        on households.submission_id = current_reviews.submission_id

),

expected as (

    select
        households.household_key,
        households.review_year,
        standards.standard_code
    from households
    cross join {{ ref('ref_poverty_standards') }} as standards

),

actual as (

    select
        household_key,
        review_year,
        standard_code
    from {{ ref('int_households_classified') }}

)

(select 'missing' as failure, * from expected except select 'missing' as failure, * from actual)
union all
(select 'unexpected' as failure, * from actual except select 'unexpected' as failure, * from expected)
