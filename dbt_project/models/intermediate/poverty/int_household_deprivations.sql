-- Households × indicators, long: the deprivation flags of every household of a current
-- review, unpivoted against the indicator seed of every standard (assessed_deprivations, which
-- int_households_classified uses on its own households). The seed names the submission column
-- of each indicator and its proxy, so a new standard is a seed change.
--
-- A view: at province scale this is ~10 million rows (households × 34 indicators), cheap to
-- aggregate in one pass and expensive to write. The household CTE is materialized so
-- PostgreSQL crosses each household once with the indicators instead of re-joining ten million
-- rows on the submission key.

{{ config(materialized='view') }}

with

-- one row per household and review year (a household listed twice counts once)
counted_rows as (

    select
        submission_id,
        household_row_number,
        review_year,
        unit_commune_code
    from {{ ref('int_review_households') }}
    where is_counted

),

households as (

    select * from {{ ref('stg_commune_reviews__households') }}

),

current_households as materialized (

    select
        households.household_key as household_key,
        counted_rows.review_year as review_year,
        counted_rows.unit_commune_code as commune_code,
        households.submission_id as submission_id
        {%- for column in deprivation_flag_columns() %},
        households.{{ column }} as {{ column }}
        {%- endfor %}
    from households
    inner join counted_rows
        on
            households.submission_id = counted_rows.submission_id
            and households.household_row_number = counted_rows.household_row_number

),

final as (

    {{ assessed_deprivations('current_households') }}

)

select * from final
