-- Households × indicators, long: the deprivation flags of every household of a current
-- review, unpivoted against the indicator seed of every standard. The seed names the
-- submission column of each indicator and its proxy, so a new standard is a seed change;
-- int_households_classified counts the same flags with the same macros (deprivation_flags.sql).
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

indicators as (

    {{ indicator_flag_positions() }}

),

current_households as materialized (

    select
        households.household_key as household_key,
        counted_rows.review_year as review_year,
        counted_rows.unit_commune_code as commune_code,
        households.submission_id as submission_id,
        {{ deprivation_flag_array('households') }} as deprivation_flags
    from households
    inner join counted_rows
        on
            households.submission_id = counted_rows.submission_id
            and households.household_row_number = counted_rows.household_row_number

),

flags as (

    select
        current_households.household_key as household_key,
        current_households.review_year as review_year,
        indicators.standard_code as standard_code,
        indicators.indicator_code as indicator_code,
        current_households.commune_code as commune_code,
        current_households.submission_id as submission_id,
        indicators.dimension_code as dimension_code,
        indicators.submission_flag_column as submission_flag_column,
        indicators.proxy_flag_column as proxy_flag_column,
        indicators.missing_counts_as_not_deprived as missing_counts_as_not_deprived,
        current_households.deprivation_flags[indicators.submission_flag_position] as reported_flag,
        current_households.deprivation_flags[indicators.proxy_flag_position] as proxy_flag
    from current_households
    cross join indicators

),

final as (

    select
        household_key,
        review_year,
        standard_code,
        indicator_code,
        commune_code,
        submission_id,
        dimension_code,
        submission_flag_column,
        proxy_flag_column,
        reported_flag,
        proxy_flag,
        {{ assessed_flag('reported_flag', 'proxy_flag', 'missing_counts_as_not_deprived') }}
            as assessed_flag,
        {{ flag_source('reported_flag', 'proxy_flag', 'missing_counts_as_not_deprived') }}
            as flag_source
    from flags

)

select * from final
