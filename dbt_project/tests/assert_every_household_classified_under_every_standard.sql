-- Nothing silently dropped: every household of every current review has exactly one
-- classification row per standard of the seed and review year — a household listed twice in a
-- year (int_review_households) once. Returns the households that do not. Anti-joins, not
-- EXCEPT: a data test runs with the server's work_mem (4 MB by default), in which sorting
-- every household × standard twice spilled to disk; that each row is there once is the
-- unique_combination_of_columns test of int_households_classified.

with

households as (

    select distinct
        households.household_key,
        current_reviews.review_year
    from {{ ref('stg_commune_reviews__households') }} as households
    inner join {{ ref('int_commune_reviews_current') }} as current_reviews
        on households.submission_id = current_reviews.submission_id

),

standards as (

    select standard_code from {{ ref('ref_poverty_standards') }}

),

classified as (

    select
        household_key,
        review_year,
        standard_code
    from {{ ref('int_households_classified') }}

)

-- a household × standard with no row
select
    'missing' as failure,
    households.household_key,
    households.review_year,
    standards.standard_code
from households
cross join standards
where not exists (
    select 1
    from classified
    where
        classified.household_key = households.household_key
        and classified.review_year = households.review_year
        and classified.standard_code = standards.standard_code
)

union all

-- a row for a household of no current review of its year
select
    'unexpected' as failure,
    classified.household_key,
    classified.review_year,
    classified.standard_code
from classified
where not exists (
    select 1
    from households
    where
        households.household_key = classified.household_key
        and households.review_year = classified.review_year
)

union all

-- a row under a standard the seed does not have
select
    'unexpected' as failure,
    classified.household_key,
    classified.review_year,
    classified.standard_code
from classified
where classified.standard_code not in (select standards.standard_code from standards)
