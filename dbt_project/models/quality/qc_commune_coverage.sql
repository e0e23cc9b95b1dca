-- Every commune of every review year, present in the marts or reported missing: one row per
-- commune code × review year with its state (the quality gate expects present or
-- reported_missing). A code is present when its current review is counted in
-- fct_poverty_indicators — in its own row, or, for a code closed by a merger, in the row of the
-- unit that took it in — since fct_submission_status reports submissions by the code sent.
-- The communes of a year are those of dim_commune (valid on 31 December of the year when
-- dim_commune carries validity dates), those fct_submission_status expects, and those with
-- indicators; a commune that is in none of them is not of that year.

{%- set commune_columns = adapter.get_columns_in_relation(ref('dim_commune')) | map(attribute='name') | list
    if execute else [] %}
{%- set dated = 'valid_from' in commune_columns and 'valid_to' in commune_columns %}

with

status as (

    select
        submitter_code as commune_code,
        period::integer as review_year,
        is_expected,
        outcome
    from {{ ref('fct_submission_status') }}
    where
        submitter_type = 'commune'
        and submission_kind = 'commune_periodic_review'
        and period ~ '^[0-9]{4}$'

),

present as (

    select distinct
        current_reviews.commune_code,
        current_reviews.review_year
    from {{ ref('int_commune_reviews_current') }} as current_reviews
    inner join {{ ref('fct_poverty_indicators') }} as indicators
        on
            current_reviews.unit_commune_code = indicators.commune_code
            and current_reviews.review_year = indicators.review_year

),

review_years as (

    select review_year from status
    union
    select review_year from present

),

listed as (

    select distinct
        communes.commune_code,
        review_years.review_year
    from review_years
    cross join {{ ref('dim_commune') }} as communes
    {%- if dated %}
    where
        communes.valid_from <= make_date(review_years.review_year, 12, 31)
        and (communes.valid_to is null or communes.valid_to >= make_date(review_years.review_year, 12, 31))
    {%- endif %}

),

communes_of_year as (

    select
        commune_code,
        review_year
    from listed
    union
    select
        commune_code,
        review_year
    from status
    where is_expected
    union
    select
        commune_code,
        review_year
    from present

),

final as (

    select
        'fct_submission_status'::text as mart,
        'commune'::text as area_level,
        communes_of_year.commune_code as area_code,
        communes_of_year.review_year,
        null::text as standard_code,
        coalesce('outcome ' || status.outcome, 'not in fct_submission_status') as detail,
        'coverage'::text as measure,
        case
            when present.commune_code is not null
                and status.outcome in ('accepted', 'accepted_with_warnings') then 'present'
            when present.commune_code is null
                and status.outcome in ('missing', 'rejected') then 'reported_missing'
            when present.commune_code is not null then 'present_but_not_reported_accepted'
            when status.outcome in ('accepted', 'accepted_with_warnings') then 'accepted_but_absent'
            else 'absent_and_not_reported'
        end as found,
        'present or reported_missing'::text as expected
    from communes_of_year
    left join status
        on
            communes_of_year.commune_code = status.commune_code
            and communes_of_year.review_year = status.review_year
    left join present
        on
            communes_of_year.commune_code = present.commune_code
            and communes_of_year.review_year = present.review_year

)

select * from final
