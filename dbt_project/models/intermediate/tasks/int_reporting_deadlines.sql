-- The deadline of every kind of submission (reporting calendar) for every period of its type,
-- and where it stands on the as-of date: the dbt variable `reporting_as_of` (YYYY-MM-DD), else
-- today in Vietnam. Rule (ref_reporting_calendar): day `deadline_day` — or the month's last day
-- if shorter — of the month `deadline_months_after_period_end` months after the period's last
-- month.

{%- set as_of = var('reporting_as_of', none) %}

with

calendar as (

    select * from {{ ref('ref_reporting_calendar') }}

),

periods as (

    select * from {{ ref('int_reporting_periods') }}

),

as_of as (

    select
        {% if as_of -%}
        cast('{{ as_of }}' as date)
        {%- else -%}
        (now() at time zone 'Asia/Ho_Chi_Minh')::date
        {%- endif %} as as_of_date

),

deadline_months as (

    select
        calendar.submission_kind,
        calendar.submitter_type,
        calendar.review_type,
        calendar.reporting_frequency,
        calendar.is_expected as is_expected_kind,
        calendar.expected_from,
        calendar.expected_to,
        calendar.deadline_day,
        periods.period,
        periods.period_type,
        periods.period_year,
        periods.period_start,
        periods.period_end,
        (
            date_trunc('month', periods.period_end)
            + make_interval(months => calendar.deadline_months_after_period_end)
        )::date as deadline_month_start
    from calendar
    inner join periods
        on calendar.period_type = periods.period_type

),

deadlines as (

    select
        deadline_months.*,
        deadline_months.deadline_month_start + (
            least(
                deadline_months.deadline_day,
                extract(day from deadline_months.deadline_month_start + interval '1 month' - interval '1 day')::integer
            ) - 1
        ) as deadline_on
    from deadline_months

),

final as (

    select
        deadlines.submission_kind,
        deadlines.period,
        deadlines.submitter_type,
        deadlines.review_type,
        deadlines.reporting_frequency,
        deadlines.period_type,
        deadlines.period_year,
        deadlines.period_start,
        deadlines.period_end,
        deadlines.deadline_on,
        deadlines.is_expected_kind,
        deadlines.period_end >= deadlines.expected_from
        and deadlines.period_start <= coalesce(deadlines.expected_to, 'infinity'::date)
            as is_in_calendar_window,
        deadlines.period_start <= as_of.as_of_date as has_started,
        deadlines.deadline_on < as_of.as_of_date as is_due,
        as_of.as_of_date
    from deadlines
    cross join as_of

)

select * from final
