-- Each household's move between two consecutive periodic reviews, under every standard. A
-- household is followed by its stable key (its former commune + ma_ho, kept across a merger:
-- see the household_key macro), so a resubmission (the newest accepted file) simply replaces
-- the list it corrects, and a household listed twice in a year counts once
-- (int_review_households). One row per household × review year t × standard for every
-- household on a list of t, and every household on a list of t−1 that is on no list of t,
-- for the review years with at least one review. Every row is filed under the unit of t's
-- review date: the unit its review of t counts for, or — for a household gone from the lists
-- — the unit that holds the territory of its commune of t−1 on t's review date.
--
-- States: poor, near_poor, neither, unclassifiable (the warehouse could not classify it),
-- absent (on no list of t although its territory was reviewed in t) or not_reviewed (on no
-- list of t, and its territory had no review of t: neither the unit holding it sent its own
-- review, nor a review of t was sent under the code that listed it in t−1 or under the code of
-- its unit of t−1). Flows:
--   newly poor      poor in t, not poor or near-poor in t−1, never poor in an earlier review
--                   (before t−1), even if it was near-poor earlier or off the list
--   re-poor         poor in t, not poor or near-poor in t−1, poor in an earlier review: it
--                   escaped and fell back (tái nghèo)
--   near-poor → poor  near-poor in t−1, poor in t (before re-poor / newly poor)
--   (likewise newly_near_poor and re_near_poor, the latter needing an earlier near-poor year)
--   left review     on the list of t−1, absent in t
--   not reviewed    on the list of t−1, not_reviewed in t
--   not compared    no current review of t−1 covers the unit's territory: no flow can be told
-- Identities (tests and the quality gate), per area:
--   poor_end = poor_start − escaped − poor_left_review − poor_to_unclassifiable
--              + near_poor_to_poor + newly_poor + re_poor + poor_not_compared
--   poor_start(t) + poor_not_reviewed(t) = poor_end(t−1) on the same territory
-- (and the near-poor counterparts).
--
-- Incremental: a run rebuilds every year of the households listed in a review that became or
-- stopped being current, and the whole years t and t+1 of a commune-year reviewed for the first
-- time (macros/household_rebuild.sql); each rebuilt household is read with all its years.

-- the pre-hook reads the staged households (the keys of the reviews that changed):
-- depends_on: {{ ref('stg_commune_reviews__households') }}
{{ config(
    materialized='incremental',
    indexes=[{'columns': ['household_key']}, {'columns': ['review_year']}],
    pre_hook="{{ prepare_household_rebuild(flows=true) }}",
    post_hook="{{ record_household_build() }}",
) }}

with

classified as (

    select
        household_key,
        review_year,
        standard_code,
        commune_code,
        submitted_commune_code,
        area_type,
        member_count,
        coalesce(classification, 'unclassifiable') as household_state
    from {{ ref('int_households_classified') }}
    {%- if household_rebuild_is_partial() %}
    where household_key in (
        -- a rebuilt household, or one on a list of a rebuilt year t or of t−1 (it may be gone
        -- from the lists of t)
        select household_key from household_rebuild
        union
        select household_key from {{ ref('int_households_classified') }}
        where
            review_year in (select review_year from household_rebuild_years)
            or review_year + 1 in (select review_year from household_rebuild_years)
    )
    {%- endif %}

),

-- the years some review was sent for: a year nobody reviewed yet has no flows
review_years as (

    select distinct review_year
    from {{ ref('int_unit_reviews') }}

),

-- review year and the code a review was sent under, as one key ('2024:28249')
reviewed_codes as (

    select review_year::text || ':' || commune_code as reviewed_key
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

compared_reviews as (

    select
        commune_code,
        review_year,
        has_previous_review
    from {{ ref('int_commune_reviews_compared') }}

),

-- one pass over each household's years under each standard (one sort): its state in the review
-- before t, whether that review was t−1, whether it is listed in t+1, and its earlier states
-- (a self-join on t−1 and an anti-join on t+1 sorted every household × standard twice more)
household_years as (

    select
        *,
        lag(review_year) over household_reviews = review_year - 1 as listed_last_year,
        lag(household_state) over household_reviews as last_state,
        lead(review_year) over household_reviews = review_year + 1 as listed_next_year,
        coalesce(bool_or(household_state = 'poor') over earlier_reviews, false)
            as was_poor_earlier,
        coalesce(bool_or(household_state = 'near_poor') over earlier_reviews, false)
            as was_near_poor_earlier
    from classified
    window
        household_reviews as (partition by household_key, standard_code order by review_year),
        earlier_reviews as (
            -- the reviews before t−1
            household_reviews
            range between unbounded preceding and 2 preceding
        )

),

-- households on a list of t, with their state in t−1
listed as (

    select
        this_year.household_key as household_key,
        this_year.review_year as review_year,
        this_year.standard_code as standard_code,
        this_year.commune_code as commune_code,
        this_year.area_type as area_type,
        this_year.member_count as member_count,
        compared_reviews.has_previous_review as has_previous_review,
        case when this_year.listed_last_year then this_year.last_state else 'absent' end
            as previous_state,
        this_year.household_state as current_state,
        this_year.was_poor_earlier as was_poor_earlier,
        this_year.was_near_poor_earlier as was_near_poor_earlier
    from household_years as this_year
    inner join compared_reviews
        on
            this_year.commune_code = compared_reviews.commune_code
            and this_year.review_year = compared_reviews.review_year

),

-- households on a list of t−1 and on no list of t, under the unit holding their territory in t
gone as (

    select
        last_year.household_key as household_key,
        last_year.review_year + 1 as review_year,
        last_year.standard_code as standard_code,
        coalesce(holder.commune_code, last_year.commune_code) as commune_code,
        last_year.area_type as area_type,
        last_year.member_count as member_count,
        last_year.household_state as previous_state,
        -- uncorrelated INs: one hash of the reviewed codes, probed per household (a correlated
        -- EXISTS scanned the reviews once per household gone)
        coalesce(
            (last_year.review_year + 1)::text || ':'
            || coalesce(holder.commune_code, last_year.commune_code)
            in (select reviewed_key from reviewed_codes)
            or (last_year.review_year + 1)::text || ':' || last_year.submitted_commune_code
            in (select reviewed_key from reviewed_codes)
            or (last_year.review_year + 1)::text || ':' || last_year.commune_code
            in (select reviewed_key from reviewed_codes),
            false
        ) as is_reviewed
    from household_years as last_year
    inner join review_years
        on last_year.review_year + 1 = review_years.review_year
    left join code_periods as holder
        on
            last_year.commune_code = holder.submitted_code
            and {{ within_period(review_date('last_year.review_year + 1'), 'holder.period_from', 'holder.period_to') }}
    where not coalesce(last_year.listed_next_year, false)

),

pairs as (

    select * from listed

    union all

    select
        household_key,
        review_year,
        standard_code,
        commune_code,
        area_type,
        member_count,
        true as has_previous_review,
        previous_state,
        case when is_reviewed then 'absent' else 'not_reviewed' end as current_state,
        false as was_poor_earlier,
        false as was_near_poor_earlier
    from gone

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
        was_poor_earlier,
        was_near_poor_earlier,
        case
            when current_state = 'not_reviewed'
                then case when previous_state = 'poor' then 'poor_not_reviewed' end
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
            when was_poor_earlier then 're_poor'
            else 'newly_poor'
        end as poverty_flow,
        case
            when current_state = 'not_reviewed'
                then case when previous_state = 'near_poor' then 'near_poor_not_reviewed' end
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
            when was_near_poor_earlier then 're_near_poor'
            else 'newly_near_poor'
        end as near_poverty_flow
    from pairs

)

select * from final
where {{ in_flow_rebuild() }}
