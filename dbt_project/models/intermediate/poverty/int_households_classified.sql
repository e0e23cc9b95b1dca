-- Every household of every current review classified under every standard of the seed
-- (every standard, every year). Thresholds and the cut-off come from
-- ref_poverty_standards; nothing here is specific to one standard.
--
-- Rule: I = income, D = deprived indicators,
-- k = cut-off, lines by area, "≤" inclusive ("từ đủ X trở xuống"):
--   I missing                                   → unclassifiable (income_missing)
--   income-only line set and I ≤ it             → poor
--   I ≤ poverty line                            → poor when D ≥ k, else near_poor
--   otherwise                                   → neither
-- Method: exact when the standard's own reported flags fix the result (income outside the
-- band where D matters, D_reported ≥ k, or D_reported + M_reported < k); else blanks are
-- filled from the proxy flag (and blanks that count as not deprived become 0): proxy when
-- that fixes it; otherwise unclassifiable (deprivation_flags_missing).
--
-- Incremental: a run rebuilds the households listed in a review that became or stopped being
-- current (macros/household_rebuild.sql).

-- The planner's estimates make it sort both sides of the join of the staged households with
-- the counted rows (each parallel worker sorting all the counted rows again); hashing the
-- counted rows is a quarter faster: the merge join is ruled out for this model's statement.
{{ config(
    materialized='incremental',
    indexes=[{'columns': ['household_key', 'review_year']}],
    pre_hook=["{{ prepare_household_rebuild() }}", "set local enable_mergejoin = off"],
    post_hook="{{ record_household_build() }}",
) }}

with

current_reviews as (

    select
        submission_id,
        review_year,
        applied_standard_code
    from {{ ref('int_commune_reviews_current') }}

),

-- one row per household and review year (a household listed twice counts once)
counted_rows as (

    select
        submission_id,
        household_row_number,
        review_year,
        unit_commune_code
    from {{ ref('int_review_households') }}
    where is_counted and {{ in_household_rebuild() }}

),

households as (

    select
        household_key,
        submission_id,
        household_row_number,
        commune_code,
        area_type,
        member_count,
        income_per_member_monthly,
        commune_classification,
        {{ deprivation_flag_array() }} as deprivation_flags
    from {{ ref('stg_commune_reviews__households') }}

),

standards as (

    select
        standard_code,
        first_review_year,
        last_review_year,
        rural_income_only_poverty_line,
        urban_income_only_poverty_line,
        rural_poverty_line,
        urban_poverty_line,
        deprivation_cutoff
    from {{ ref('ref_poverty_standards') }}

),

-- each standard's indicators as parallel arrays, in indicator order: a household's flags are
-- then read by position (deprivation_flag_array), not by a join or CASE per indicator
standard_indicators as (

    select
        standard_code,
        array_agg(indicator_code order by indicator_code) as indicator_codes,
        array_agg(submission_flag_position order by indicator_code) as submission_flag_positions,
        array_agg(proxy_flag_position order by indicator_code) as proxy_flag_positions,
        array_agg(missing_counts_as_not_deprived order by indicator_code)
            as missing_counts_as_not_deprived
    from ({{ indicator_flag_positions() }}) as indicators  -- noqa: ST05
    group by standard_code

),

current_households as (

    select
        households.household_key as household_key,
        counted_rows.review_year as review_year,
        households.submission_id as submission_id,
        counted_rows.unit_commune_code as commune_code,
        households.commune_code as submitted_commune_code,
        households.area_type as area_type,
        households.member_count as member_count,
        households.income_per_member_monthly as income_per_member_monthly,
        households.commune_classification as commune_classification,
        current_reviews.applied_standard_code as applied_standard_code,
        households.deprivation_flags as deprivation_flags
    from households
    inner join counted_rows
        on
            households.submission_id = counted_rows.submission_id
            and households.household_row_number = counted_rows.household_row_number
    inner join current_reviews
        on households.submission_id = current_reviews.submission_id

),

-- the distinct patterns of flags (a few thousand among hundreds of thousands of households),
-- each counted once under each standard's indicators and joined back: counting per household
-- would aggregate households × indicators (ten million rows) one household at a time
flag_patterns as (

    select distinct deprivation_flags
    from current_households

),

pattern_counts as (

    select
        flag_patterns.deprivation_flags as deprivation_flags,
        standards.standard_code as standard_code,
        deprivation_counts.*
    from flag_patterns
    cross join standards
    left join standard_indicators
        on standards.standard_code = standard_indicators.standard_code
    -- the flags under the standard's indicators, as int_household_deprivations reads them
    cross join lateral (  -- noqa: ST05
        select
            count(*) as indicators_assessed,
            count(*) filter (where reported_flag = 1) as deprived_reported_count,
            count(*) filter (where reported_flag is null) as missing_reported_count,
            count(*) filter (where flag_source = 'proxy') as proxy_filled_count,
            count(*) filter (
                where flag_source = 'missing_counts_as_not_deprived'
            ) as missing_counted_not_deprived_count,
            count(*) filter (where assessed_flag = 1) as deprived_assessed_count,
            count(*) filter (where assessed_flag is null) as missing_assessed_count,
            coalesce(
                array_agg(indicator_code order by indicator_code) filter (where assessed_flag = 1),
                '{}'
            ) as deprived_indicator_codes
        from (
            select
                indicator_code,
                reported_flag,
                {{ assessed_flag('reported_flag', 'proxy_flag', 'missing_counts_as_not_deprived') }}
                    as assessed_flag,
                {{ flag_source('reported_flag', 'proxy_flag', 'missing_counts_as_not_deprived') }}
                    as flag_source
            from (
                select
                    indicator.indicator_code as indicator_code,
                    indicator.missing_counts_as_not_deprived as missing_counts_as_not_deprived,
                    flag_patterns.deprivation_flags[indicator.submission_flag_position]
                        as reported_flag,
                    flag_patterns.deprivation_flags[indicator.proxy_flag_position]
                        as proxy_flag
                from unnest(
                    standard_indicators.indicator_codes,
                    standard_indicators.submission_flag_positions,
                    standard_indicators.proxy_flag_positions,
                    standard_indicators.missing_counts_as_not_deprived
                ) as indicator (
                    indicator_code,
                    submission_flag_position,
                    proxy_flag_position,
                    missing_counts_as_not_deprived
                )
            ) as flags
        ) as deprivations
    ) as deprivation_counts

),

household_standards as (

    select
        current_households.household_key as household_key,
        current_households.review_year as review_year,
        standards.standard_code as standard_code,
        current_households.submission_id as submission_id,
        current_households.commune_code as commune_code,
        current_households.submitted_commune_code as submitted_commune_code,
        current_households.area_type as area_type,
        current_households.member_count as member_count,
        current_households.income_per_member_monthly as income_per_member_monthly,
        current_households.commune_classification as commune_classification,
        standards.standard_code = current_households.applied_standard_code
            as is_commune_applied_standard,
        {{ is_official_standard('current_households.review_year') }} as is_official_standard,
        case current_households.area_type
            when 'thanh_thi' then standards.urban_income_only_poverty_line
            when 'nong_thon' then standards.rural_income_only_poverty_line
        end as income_only_poverty_line,
        case current_households.area_type
            when 'thanh_thi' then standards.urban_poverty_line
            when 'nong_thon' then standards.rural_poverty_line
        end as poverty_line,
        standards.deprivation_cutoff as deprivation_cutoff,
        deprivation_counts.indicators_assessed as indicators_assessed,
        deprivation_counts.deprived_reported_count as deprived_reported_count,
        deprivation_counts.missing_reported_count as missing_reported_count,
        deprivation_counts.proxy_filled_count as proxy_filled_count,
        deprivation_counts.missing_counted_not_deprived_count
            as missing_counted_not_deprived_count,
        deprivation_counts.deprived_assessed_count as deprived_assessed_count,
        deprivation_counts.missing_assessed_count as missing_assessed_count,
        deprivation_counts.deprived_indicator_codes as deprived_indicator_codes
    from current_households
    cross join standards
    inner join pattern_counts as deprivation_counts
        on
            current_households.deprivation_flags = deprivation_counts.deprivation_flags
            and standards.standard_code = deprivation_counts.standard_code

),

income_bands as (

    select
        *,
        case
            when income_per_member_monthly is null then 'income_missing'
            when poverty_line is null then 'area_type_missing'
            when
                income_only_poverty_line is not null
                and income_per_member_monthly <= income_only_poverty_line
                then 'income_poor'
            when income_per_member_monthly <= poverty_line then 'deprivation_decides'
            else 'above_poverty_line'
        end as income_band
    from household_standards

),

methods as (

    select
        *,
        case
            when income_band in ('income_missing', 'area_type_missing') then 'unclassifiable'
            when income_band in ('income_poor', 'above_poverty_line') then 'exact'
            when deprived_reported_count >= deprivation_cutoff then 'exact'
            when deprived_reported_count + missing_reported_count < deprivation_cutoff then 'exact'
            when deprived_assessed_count >= deprivation_cutoff then 'proxy'
            when deprived_assessed_count + missing_assessed_count < deprivation_cutoff then 'proxy'
            else 'unclassifiable'
        end as classification_method
    from income_bands

),

final as (

    select
        household_key,
        review_year,
        standard_code,
        submission_id,
        commune_code,
        submitted_commune_code,
        area_type,
        member_count,
        income_per_member_monthly,
        is_official_standard,
        is_commune_applied_standard,
        commune_classification,
        income_only_poverty_line,
        poverty_line,
        deprivation_cutoff,
        income_band,
        indicators_assessed,
        deprived_reported_count,
        missing_reported_count,
        proxy_filled_count,
        missing_counted_not_deprived_count,
        deprived_assessed_count as deprivation_count,
        missing_assessed_count as missing_indicator_count,
        deprived_indicator_codes,
        case
            when classification_method = 'unclassifiable' then null
            when income_band = 'income_poor' then 'poor'
            when income_band = 'above_poverty_line' then 'neither'
            when classification_method = 'exact' and deprived_reported_count >= deprivation_cutoff
                then 'poor'
            when classification_method = 'exact' then 'near_poor'
            when deprived_assessed_count >= deprivation_cutoff then 'poor'
            else 'near_poor'
        end as classification,
        classification_method,
        case
            when income_band = 'income_missing' then 'income_missing'
            when income_band = 'area_type_missing' then 'area_type_missing'
            when classification_method = 'unclassifiable' then 'deprivation_flags_missing'
        end as unclassifiable_reason
    from methods

)

select * from final
