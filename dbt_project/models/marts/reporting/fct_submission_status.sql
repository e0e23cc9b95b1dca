-- Every expected submission — each commune's reviews and each agency's reports — for each
-- period (DHIS2's expected reports), with what arrived: received or missing, accepted / with
-- warnings / rejected, on time or how many days late. Submissions that arrived without being
-- expected (a monthly commune review the calendar does not ask for, an agency code outside the
-- registry …) are kept too, flagged is_expected = false, so every attributable file is here.
-- Timeliness is judged on the first acceptable file: received (audit.submissions.received_at,
-- as a date in Vietnam) on or before the deadline is on time.

with

expected as (

    select * from {{ ref('int_expected_submissions') }}

),

received as (

    select * from {{ ref('int_submissions_received') }}
    where submitter_code is not null and submission_kind is not null and period is not null

),

deadlines as (

    select * from {{ ref('int_reporting_deadlines') }}

),

-- the unit a commune code stands for at the end of the period
code_periods as (

    select * from {{ ref('int_commune_code_periods') }}

),

communes as (

    select * from {{ ref('dim_commune') }}

),

agencies as (

    select * from {{ ref('ref_reporting_agencies') }}

),

received_by_submission as (

    select
        submitter_type,
        submitter_code,
        submission_kind,
        period,
        count(*) as file_count,
        count(*) filter (where submission_status = 'rejected') as rejected_file_count,
        min(received_on) as first_received_on,
        min(received_on) filter (where is_accepted) as first_accepted_on,
        max(received_at) as last_received_at,
        (array_agg(submission_id order by received_at desc, submission_id desc)
            filter (where is_current))[1] as current_submission_id,
        (array_agg(submission_status order by received_at desc, submission_id desc)
            filter (where is_current))[1] as current_status,
        (array_agg(submission_id order by received_at desc, submission_id desc))[1]
            as latest_submission_id
    from received
    group by submitter_type, submitter_code, submission_kind, period

),

combined as (

    select
        coalesce(expected.submitter_type, received_by_submission.submitter_type) as submitter_type,
        coalesce(expected.submitter_code, received_by_submission.submitter_code) as submitter_code,
        coalesce(expected.submission_kind, received_by_submission.submission_kind) as submission_kind,
        coalesce(expected.period, received_by_submission.period) as period,
        expected.submitter_code is not null as is_expected,
        received_by_submission.file_count,
        received_by_submission.rejected_file_count,
        received_by_submission.first_received_on,
        received_by_submission.first_accepted_on,
        received_by_submission.last_received_at,
        received_by_submission.current_submission_id,
        received_by_submission.current_status,
        received_by_submission.latest_submission_id
    from expected
    full outer join received_by_submission
        on
            expected.submitter_type = received_by_submission.submitter_type
            and expected.submitter_code = received_by_submission.submitter_code
            and expected.submission_kind = received_by_submission.submission_kind
            and expected.period = received_by_submission.period

),

assessed as (

    select
        combined.*,
        deadlines.period_type,
        deadlines.period_year,
        deadlines.period_start,
        deadlines.period_end,
        deadlines.deadline_on,
        deadlines.is_due,
        deadlines.as_of_date,
        case
            when combined.current_status is not null then combined.current_status
            when combined.file_count > 0 then 'rejected'
            else 'missing'
        end as outcome,
        case
            when combined.first_accepted_on <= deadlines.deadline_on then 'on_time'
            when combined.first_accepted_on > deadlines.deadline_on then 'late'
            when deadlines.is_due then 'overdue'
            else 'not_yet_due'
        end as timeliness
    from combined
    inner join deadlines
        on
            combined.submission_kind = deadlines.submission_kind
            and combined.period = deadlines.period

),

final as (

    select
        assessed.submitter_type,
        assessed.submitter_code,
        assessed.submission_kind,
        assessed.period,
        coalesce(communes.commune_name, agencies.agency_name_vi) as submitter_name,
        communes.district_code,
        communes.district_name,
        agencies.agency_group,
        assessed.period_type,
        assessed.period_year,
        assessed.period_start,
        assessed.period_end,
        assessed.deadline_on,
        assessed.as_of_date,
        assessed.is_expected,
        assessed.is_due,
        coalesce(assessed.file_count, 0) > 0 as is_received,
        coalesce(assessed.file_count, 0) as file_count,
        coalesce(assessed.rejected_file_count, 0) as rejected_file_count,
        assessed.first_received_on,
        assessed.first_accepted_on,
        assessed.outcome,
        assessed.outcome in ('accepted', 'accepted_with_warnings') as is_accepted,
        assessed.timeliness,
        assessed.timeliness = 'on_time' as is_on_time,
        case
            when assessed.first_accepted_on is not null
                then greatest(assessed.first_accepted_on - assessed.deadline_on, 0)
        end as days_late,
        case
            when assessed.timeliness = 'overdue' then assessed.as_of_date - assessed.deadline_on
        end as days_overdue,
        case
            when assessed.outcome = 'rejected' then 'rejected'
            when assessed.timeliness = 'overdue' and assessed.is_expected then 'overdue'
        end as follow_up_reason,
        assessed.current_submission_id,
        assessed.latest_submission_id,
        assessed.last_received_at
    from assessed
    left join code_periods
        on
            assessed.submitter_type = 'commune'
            and assessed.submitter_code = code_periods.submitted_code
            and {{ within_period('assessed.period_end', 'code_periods.period_from', 'code_periods.period_to') }}
    left join communes
        on code_periods.commune_version_key = communes.commune_version_key
    left join agencies
        on assessed.submitter_type = 'agency' and assessed.submitter_code = agencies.agency_code

)

select * from final
