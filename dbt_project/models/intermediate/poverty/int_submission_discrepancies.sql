-- Every discrepancy between what a commune claimed in its current periodic review and what
-- the warehouse recomputes, as a warning row in the shape of audit.submission_problems
-- (sheet, row, column, value, rule, vi/en message). The rules, their tolerance and their
-- messages are ref_reconciliation_rules; the build DAG copies these rows into
-- audit.submission_problems (poverty_pipeline.quality.reconcile). Checks:
--   rate_vs_count   tong_hop rate (percent) vs round(100 × its own count / tong_so_ho, d):
--                   a discrepancy when they differ by more than the rule's tolerance
--   count_vs_list   tong_hop count vs the households of that area the commune classified so
--                   in its own list (phan_loai_cua_xa)
--   classification  phan_loai_cua_xa vs the warehouse's classification under the standard
--                   the commune applied, for households classified exactly (not by proxy)
--   duplicate_household
--                   a household another row of the year's reviews lists too (the same
--                   territory sent twice: a code closed by a merger and its successor): it
--                   counts once, from that row (int_review_households); each other row gets
--                   a warning naming the code and row it counts from

with

current_reviews as (

    select
        submission_id,
        commune_code,
        review_year,
        applied_standard_code
    from {{ ref('int_commune_reviews_current') }}

),

area_totals as (

    select * from {{ ref('stg_commune_reviews__area_totals') }}

),

-- the staged rows without their key: the view would hash every household's key again; a row's
-- key is read from int_review_households, by its submission and row number
households as (

    select
        submission_id,
        household_row_number,
        area_type,
        commune_classification,
        commune_classification_code
    from {{ ref('stg_commune_reviews__households') }}

),

review_households as (

    select
        submission_id,
        household_row_number,
        household_key
    from {{ ref('int_review_households') }}

),

classified as (

    select
        household_key,
        submission_id,
        standard_code,
        classification
    from {{ ref('int_households_classified') }}
    where
        is_commune_applied_standard
        and classification_method = 'exact'

),

rules as (

    select * from {{ ref('ref_reconciliation_rules') }}

),

classification_codes as (

    -- the contract's codes of phan_loai_cua_xa (stg_commune_reviews__households)
    select
        classification,
        classification_code
    from (
        values ('poor', 'ngheo'), ('near_poor', 'can_ngheo'), ('neither', 'khong')
    ) as contract_codes (classification, classification_code)

),

list_counts as (

    select
        submission_id,
        area_type,
        count(*) filter (where commune_classification = 'poor') as listed_poor_households,
        count(*) filter (where commune_classification = 'near_poor')
            as listed_near_poor_households
    from households
    group by
        submission_id,
        area_type

),

area_claims as (

    -- one row per tong_hop row × class (poor, near_poor)
    select
        current_reviews.submission_id as submission_id,
        current_reviews.commune_code as commune_code,
        current_reviews.review_year as review_year,
        area_totals.area_row_number as row_number,
        area_totals.area_type as area_type,
        area_totals.total_households as total_households,
        claims.classification as classification,
        claims.claimed_count as claimed_count,
        claims.claimed_rate_percent as claimed_rate_percent,
        claims.listed_count as listed_count
    from current_reviews
    inner join area_totals
        on current_reviews.submission_id = area_totals.submission_id
    left join list_counts
        on
            area_totals.submission_id = list_counts.submission_id
            and area_totals.area_type = list_counts.area_type
    cross join lateral (
        values
            (
                'poor',
                area_totals.reported_poor_households,
                area_totals.reported_poor_rate_percent,
                coalesce(list_counts.listed_poor_households, 0)
            ),
            (
                'near_poor',
                area_totals.reported_near_poor_households,
                area_totals.reported_near_poor_rate_percent,
                coalesce(list_counts.listed_near_poor_households, 0)
            )
    ) as claims (classification, claimed_count, claimed_rate_percent, listed_count)

),

rate_checks as (

    select
        area_claims.*,
        rules.rule as rule,
        case
            when area_claims.total_households = 0 then round(0::numeric, rules.rate_decimals)
            else round(
                100.0 * area_claims.claimed_count / area_claims.total_households,
                rules.rate_decimals
            )
        end as expected_rate_percent,
        rules.rate_decimals as rate_decimals,
        rules.rate_tolerance as rate_tolerance
    from area_claims
    inner join rules
        on
            rules.check_type = 'rate_vs_count'
            and area_claims.classification = rules.classification
    where
        area_claims.claimed_rate_percent is not null
        and area_claims.claimed_count is not null

),

rate_discrepancies as (

    select
        submission_id,
        commune_code,
        review_year,
        rule,
        row_number,
        trim_scale(claimed_rate_percent)::text as claimed_value,
        expected_rate_percent::text as expected_value,
        claimed_count::text as count_value,
        total_households::text as denominator_value,
        area_type,
        null::text as standard_code,
        null::text as other_commune,
        null::text as other_row
    from rate_checks
    where abs(claimed_rate_percent - expected_rate_percent) > rate_tolerance

),

count_discrepancies as (

    select
        area_claims.submission_id as submission_id,
        area_claims.commune_code as commune_code,
        area_claims.review_year as review_year,
        rules.rule as rule,
        area_claims.row_number as row_number,
        area_claims.claimed_count::text as claimed_value,
        area_claims.listed_count::text as expected_value,
        area_claims.claimed_count::text as count_value,
        area_claims.total_households::text as denominator_value,
        area_claims.area_type as area_type,
        null::text as standard_code,
        null::text as other_commune,
        null::text as other_row
    from area_claims
    inner join rules
        on
            rules.check_type = 'count_vs_list'
            and area_claims.classification = rules.classification
    where
        area_claims.claimed_count is not null
        and area_claims.claimed_count <> area_claims.listed_count

),

classification_discrepancies as (

    select
        current_reviews.submission_id as submission_id,
        current_reviews.commune_code as commune_code,
        current_reviews.review_year as review_year,
        rules.rule as rule,
        households.household_row_number as row_number,
        households.commune_classification_code as claimed_value,
        classification_codes.classification_code as expected_value,
        null::text as count_value,
        null::text as denominator_value,
        households.area_type as area_type,
        classified.standard_code as standard_code,
        null::text as other_commune,
        null::text as other_row
    from current_reviews
    inner join households
        on current_reviews.submission_id = households.submission_id
    inner join review_households
        on
            households.submission_id = review_households.submission_id
            and households.household_row_number = review_households.household_row_number
    inner join classified
        on
            review_households.submission_id = classified.submission_id
            and review_households.household_key = classified.household_key
    inner join classification_codes
        on classified.classification = classification_codes.classification
    inner join rules
        on rules.check_type = 'classification'
    where
        households.commune_classification is not null
        and households.commune_classification <> classified.classification

),

duplicate_discrepancies as (

    select
        duplicates.submission_id as submission_id,
        duplicates.commune_code as commune_code,
        duplicates.review_year as review_year,
        rules.rule as rule,
        duplicates.household_row_number as row_number,
        null::text as claimed_value,
        duplicates.counted_commune_code as expected_value,
        null::text as count_value,
        null::text as denominator_value,
        null::text as area_type,
        null::text as standard_code,
        duplicates.counted_commune_code as other_commune,
        duplicates.counted_row_number::text as other_row
    from {{ ref('int_review_households') }} as duplicates
    inner join rules
        on rules.check_type = 'duplicate_household'
    where not duplicates.is_counted

),

discrepancies as (

    select * from rate_discrepancies
    union all
    select * from count_discrepancies
    union all
    select * from classification_discrepancies
    union all
    select * from duplicate_discrepancies

),

final as (

    select
        discrepancies.submission_id as submission_id,
        discrepancies.commune_code as commune_code,
        discrepancies.review_year as review_year,
        rules.sheet as sheet,
        discrepancies.row_number as row_number,
        rules.column_name as column_name,
        discrepancies.claimed_value as value,
        discrepancies.expected_value as expected_value,
        discrepancies.rule as rule,
        rules.check_type as check_type,
        rules.severity as severity,
        -- Vietnamese messages write decimals with a comma
        replace(replace(replace(replace(replace(replace(replace(replace(replace(rules.message_vi,
            '{value}', replace(coalesce(discrepancies.claimed_value, ''), '.', ',')),
            '{expected}', replace(coalesce(discrepancies.expected_value, ''), '.', ',')),
            '{count}', coalesce(discrepancies.count_value, '')),
            '{denominator}', coalesce(discrepancies.denominator_value, '')),
            '{area}', coalesce(discrepancies.area_type, '')),
            '{standard}', coalesce(discrepancies.standard_code, '')),
            '{year}', discrepancies.review_year::text),
            '{other_commune}', coalesce(discrepancies.other_commune, '')),
            '{other_row}', coalesce(discrepancies.other_row, '')) as message_vi,
        replace(replace(replace(replace(replace(replace(replace(replace(replace(rules.message_en,
            '{value}', coalesce(discrepancies.claimed_value, '')),
            '{expected}', coalesce(discrepancies.expected_value, '')),
            '{count}', coalesce(discrepancies.count_value, '')),
            '{denominator}', coalesce(discrepancies.denominator_value, '')),
            '{area}', coalesce(discrepancies.area_type, '')),
            '{standard}', coalesce(discrepancies.standard_code, '')),
            '{year}', discrepancies.review_year::text),
            '{other_commune}', coalesce(discrepancies.other_commune, '')),
            '{other_row}', coalesce(discrepancies.other_row, '')) as message_en
    from discrepancies
    inner join rules
        on discrepancies.rule = rules.rule

)

select * from final
