-- Households × indicators, long: the deprivation flags of every household of a current
-- review, unpivoted against the indicator seed of every standard. The seed names the
-- submission column of each indicator and its proxy, so a new standard is a seed change.
--
-- A view: at province scale this is ~10 million rows (households × 34 indicators), cheap to
-- aggregate in one pass and expensive to write. The flag columns are read from the seed when
-- the model runs, so each flag is picked with a plain CASE (no per-row JSON). The household
-- CTE is materialized so PostgreSQL crosses each household once with the indicators instead of
-- re-joining ten million rows on the submission key.

{{ config(materialized='view') }}

{%- set flag_columns = [] -%}
{%- if execute -%}
    {%- set flag_query -%}
        select flag_column from (
            select submission_flag_column as flag_column from {{ ref('ref_poverty_indicators') }}
            union
            select proxy_flag_column from {{ ref('ref_poverty_indicators') }}
        ) as columns_used
        where flag_column is not null
        order by flag_column
    {%- endset -%}
    {%- set flag_columns = run_query(flag_query).columns[0].values() -%}
{%- endif %}


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

    select
        standard_code,
        indicator_code,
        dimension_code,
        submission_flag_column,
        proxy_flag_column,
        missing_counts_as_not_deprived
    from {{ ref('ref_poverty_indicators') }}

),

current_households as materialized (

    select
        households.household_key as household_key,
        counted_rows.review_year as review_year,
        counted_rows.unit_commune_code as commune_code,
        households.submission_id as submission_id
        {%- for column in flag_columns %},
        households.{{ column }} as {{ column }}
        {%- endfor %}
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
        case indicators.submission_flag_column
            {%- for column in flag_columns %}
            when '{{ column }}' then current_households.{{ column }}
            {%- endfor %}
        end::smallint as reported_flag,
        case indicators.proxy_flag_column
            {%- for column in flag_columns %}
            when '{{ column }}' then current_households.{{ column }}
            {%- endfor %}
        end::smallint as proxy_flag
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
        case
            when reported_flag is not null then reported_flag
            when proxy_flag is not null then proxy_flag
            when missing_counts_as_not_deprived then 0::smallint
        end as assessed_flag,
        case
            when reported_flag is not null then 'reported'
            when proxy_flag is not null then 'proxy'
            when missing_counts_as_not_deprived then 'missing_counts_as_not_deprived'
            else 'missing'
        end as flag_source
    from flags

)

select * from final
