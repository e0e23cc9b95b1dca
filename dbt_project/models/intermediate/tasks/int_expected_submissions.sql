-- Every submission the province expects (DHIS2's "expected reports"): each commune-level
-- unit valid on the period's last day (dim_commune: 165 known units before 1 Nov 2024, 164
-- until 30 Jun 2025, 57 after) for each period of every expected commune kind (the periodic review of every
-- year in the calendar's window or present in the data), and each agency of the registry for
-- each period of its reporting frequency within the calendar's window and the agency's active
-- dates. Only periods that have started by the as-of date are expected.

with

deadlines as (

    select * from {{ ref('int_reporting_deadlines') }}
    where is_expected_kind and has_started

),

communes as (

    select
        commune_code,
        valid_from,
        valid_to
    from {{ ref('dim_commune') }}

),

agencies as (

    select * from {{ ref('ref_reporting_agencies') }}

),

commune_periods_in_data as (

    select distinct
        submission_kind,
        period
    from {{ ref('int_submissions_received') }}
    where submitter_type = 'commune' and period is not null

),

commune_deadlines as (

    select deadlines.*
    from deadlines
    where
        deadlines.submitter_type = 'commune'
        and (
            deadlines.is_in_calendar_window
            or exists (
                select 1
                from commune_periods_in_data
                where
                    commune_periods_in_data.submission_kind = deadlines.submission_kind
                    and commune_periods_in_data.period = deadlines.period
            )
        )

),

commune_expected as (

    select
        'commune' as submitter_type,
        communes.commune_code as submitter_code,
        commune_deadlines.submission_kind,
        commune_deadlines.period,
        commune_deadlines.period_type,
        commune_deadlines.period_year,
        commune_deadlines.period_start,
        commune_deadlines.period_end,
        commune_deadlines.deadline_on,
        commune_deadlines.is_due,
        commune_deadlines.as_of_date
    from commune_deadlines
    inner join communes
        on
            {{ within_period('commune_deadlines.period_end', 'communes.valid_from', 'communes.valid_to') }}

),

agency_expected as (

    select
        'agency' as submitter_type,
        agencies.agency_code as submitter_code,
        deadlines.submission_kind,
        deadlines.period,
        deadlines.period_type,
        deadlines.period_year,
        deadlines.period_start,
        deadlines.period_end,
        deadlines.deadline_on,
        deadlines.is_due,
        deadlines.as_of_date
    from deadlines
    inner join agencies
        on deadlines.reporting_frequency = agencies.reporting_frequency
    where
        deadlines.submitter_type = 'agency'
        and deadlines.is_in_calendar_window
        and deadlines.period_end >= agencies.active_from
        and deadlines.period_start <= coalesce(agencies.active_to, 'infinity'::date)

),

final as (

    select * from commune_expected
    union all
    select * from agency_expected

)

select * from final
