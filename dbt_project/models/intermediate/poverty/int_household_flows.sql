-- Each household's move between two consecutive periodic reviews of its commune, under every
-- standard (shared/domain/poverty-standards.md §3). A household is followed by its stable
-- key (commune + ma_ho, kept across a merger: see the household_key macro), so a resubmission (the newest accepted file) simply replaces the
-- list it corrects. One row per household × review year t × standard for every household on
-- the commune's list of t or of t−1, when the commune has a current review of t.
--
-- States: poor, near_poor, neither, unclassifiable (the warehouse could not classify it) or
-- absent (not on that year's list). Flows (operational definitions, the official wording
-- of "re-poor" is unconfirmed):
--   newly poor    poor in t, not poor/near-poor in t−1, never on a list (poor or near-poor,
--                 same standard) in any earlier year
--   re-poor       poor in t, not poor/near-poor in t−1, on a list in an earlier year
--   (the same two for near-poor: newly_near_poor, re_near_poor)
--   left review   on the list of t−1, absent from the list of t
--   not compared  no current review of t−1 covers the commune's territory (its own, or one of
--                 a commune merged into it since): no flow can be told
-- Identity (tests): poor_end = poor_start − escaped − poor_left_review
--   − poor_to_unclassifiable + near_poor_to_poor + newly_poor + re_poor + poor_not_compared.

with

classified as (

    select
        household_key,
        review_year,
        standard_code,
        commune_code,
        area_type,
        member_count,
        coalesce(classification, 'unclassifiable') as household_state
    from {{ ref('int_households_classified') }}

),

code_periods as (

    select
        submitted_code,
        commune_code,
        period_from,
        period_to
    from {{ ref('int_commune_code_periods') }}

),

household_years as (

    select
        household_key,
        review_year,
        standard_code,
        commune_code,
        area_type,
        member_count,
        household_state,
        coalesce(
            bool_or(household_state in ('poor', 'near_poor')) over (
                partition by household_key, standard_code
                order by review_year
                rows between unbounded preceding and 1 preceding
            ),
            false
        ) as was_listed_before
    from classified

),

pairs as (

    select
        coalesce(this_year.household_key, last_year.household_key) as household_key,
        coalesce(this_year.review_year, last_year.review_year + 1) as review_year,
        coalesce(this_year.standard_code, last_year.standard_code) as standard_code,
        -- a household gone from the list counts in the commune that holds its old commune's
        -- territory in t (the same commune unless it merged)
        coalesce(this_year.commune_code, moved.commune_code, last_year.commune_code) as commune_code,
        coalesce(this_year.area_type, last_year.area_type) as area_type,
        coalesce(this_year.member_count, last_year.member_count) as member_count,
        coalesce(last_year.household_state, 'absent') as previous_state,
        coalesce(this_year.household_state, 'absent') as current_state,
        -- absent in t: it was on the list of t−1 at least
        coalesce(this_year.was_listed_before, true) as was_listed_before
    from household_years as this_year
    full outer join household_years as last_year
        on
            this_year.household_key = last_year.household_key
            and this_year.standard_code = last_year.standard_code
            and this_year.review_year = last_year.review_year + 1
    left join code_periods as moved
        on
            this_year.household_key is null
            and last_year.commune_code = moved.submitted_code
            and {{ within_period(review_date('last_year.review_year + 1'), 'moved.period_from', 'moved.period_to') }}

),

compared as (

    select
        pairs.*,
        compared_reviews.has_previous_review
    from pairs
    -- a row of t exists only when the commune has a current review of t
    inner join {{ ref('int_commune_reviews_compared') }} as compared_reviews
        on
            pairs.commune_code = compared_reviews.commune_code
            and pairs.review_year = compared_reviews.review_year

),

final as (

    select
        household_key,
        review_year,
        standard_code,
        commune_code,
        area_type,
        member_count,
        has_previous_review,
        previous_state,
        current_state,
        was_listed_before,
        case
            when not has_previous_review
                then case when current_state = 'poor' then 'poor_not_compared' end
            when previous_state = 'poor' then
                case current_state
                    when 'poor' then 'stayed_poor'
                    when 'near_poor' then 'escaped_to_near_poor'
                    when 'neither' then 'escaped_to_neither'
                    when 'unclassifiable' then 'poor_to_unclassifiable'
                    when 'absent' then 'poor_left_review'
                end
            when current_state <> 'poor' then null
            when previous_state = 'near_poor' then 'near_poor_to_poor'
            when was_listed_before then 're_poor'
            else 'newly_poor'
        end as poverty_flow,
        case
            when not has_previous_review
                then case when current_state = 'near_poor' then 'near_poor_not_compared' end
            when previous_state = 'near_poor' then
                case current_state
                    when 'near_poor' then 'stayed_near_poor'
                    when 'poor' then 'near_poor_to_poor'
                    when 'neither' then 'escaped_near_poverty'
                    when 'unclassifiable' then 'near_poor_to_unclassifiable'
                    when 'absent' then 'near_poor_left_review'
                end
            when current_state <> 'near_poor' then null
            when previous_state = 'poor' then 'poor_to_near_poor'
            when was_listed_before then 're_near_poor'
            else 'newly_near_poor'
        end as near_poverty_flow
    from compared

)

select * from final
