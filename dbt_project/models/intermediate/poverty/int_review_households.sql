-- Every household row of every current periodic review, with the one row each household
-- counts from in its review year. A household is keyed by its former commune and code
-- (household_key), so the same household can be listed twice in a year: by a code closed by a
-- merger and by the unit that took it in (both sending the same territory), or twice in one
-- file ("HO00012" and "28531-HO00012"). It counts once, from the first row in this order:
--   1. the review sent under its unit's own code (the unit of the review date) wins over one
--      sent under a closed code;
--   2. then the newest review (received_at, then the greater submission_id);
--   3. then the first row of the file.
-- Every other row is a duplicate: not counted, and reported to its submitter
-- (reconcile_duplicate_household, int_submission_discrepancies).
--
-- Incremental: a run rebuilds the rows of the households listed in a review that became or
-- stopped being current (macros/household_rebuild.sql); their rows in every current review are
-- ranked again, so a household listed by two communes is settled whichever of them changed.

{{ config(
    materialized='incremental',
    indexes=[{'columns': ['household_key', 'review_year']}],
    pre_hook="{{ prepare_household_rebuild(keep_rows=true) }}",
    post_hook="{{ record_household_build() }}",
) }}

with

current_reviews as (

    select
        submission_id,
        commune_code,
        review_year,
        unit_commune_code,
        is_unit_own_review,
        received_at
    from {{ ref('int_commune_reviews_current') }}

),

households as (

    select
        household_key,
        submission_id,
        household_row_number
    from {{ ref('stg_commune_reviews__households') }}
    {%- if household_rebuild_is_partial() %}
    -- the rows of the reviews that became current, and the rows that list the same households
    -- in the other current reviews
    where submission_id = any(array(select current_submission_id from household_rebuild_reviews))
    union all
    select
        household_key,
        submission_id,
        household_row_number
    from {{ ref('stg_commune_reviews__households') }}
    where (submission_id, household_row_number) in (
        select
            submission_id,
            household_row_number
        from household_rebuild_rows
    )
    {%- endif %}

),

ranked as (

    select
        households.household_key as household_key,
        current_reviews.review_year as review_year,
        households.submission_id as submission_id,
        households.household_row_number as household_row_number,
        current_reviews.commune_code as commune_code,
        current_reviews.unit_commune_code as unit_commune_code,
        row_number() over counted_first as household_rank,
        first_value(households.submission_id) over counted_first as counted_submission_id,
        first_value(households.household_row_number) over counted_first as counted_row_number,
        first_value(current_reviews.commune_code) over counted_first as counted_commune_code,
        first_value(current_reviews.unit_commune_code) over counted_first
            as counted_unit_commune_code
    from households
    inner join current_reviews
        on households.submission_id = current_reviews.submission_id
    window counted_first as (
        partition by households.household_key, current_reviews.review_year
        order by
            current_reviews.is_unit_own_review desc,
            current_reviews.received_at desc,
            households.submission_id desc,
            households.household_row_number asc
        rows between unbounded preceding and unbounded following
    )

),

final as (

    select
        household_key,
        review_year,
        submission_id,
        household_row_number,
        commune_code,
        unit_commune_code,
        household_rank = 1 as is_counted,
        counted_submission_id,
        counted_row_number,
        counted_commune_code,
        counted_unit_commune_code
    from ranked

)

select * from final
