-- Agency × plan task × period: what the agency's current report for the period says about the
-- task (activities reported, completed, in progress, overdue, completed on time; funds), for
-- every task the registry expects the agency to report on in every period it must report —
-- reported or not — and for any task it reported without being expected to.

with

expected_reports as (

    select * from {{ ref('int_expected_submissions') }}
    where submitter_type = 'agency'

),

assignments as (

    select * from {{ ref('ref_agency_tasks') }}

),

activities as (

    select * from {{ ref('int_agency_activities_assessed') }}

),

reports as (

    select * from {{ ref('int_agency_reports_current') }}

),

periods as (

    select * from {{ ref('int_reporting_periods') }}

),

expected_tasks as (

    select
        expected_reports.submitter_code as agency_code,
        assignments.task_code,
        expected_reports.period,
        expected_reports.deadline_on,
        expected_reports.is_due
    from expected_reports
    inner join assignments
        on expected_reports.submitter_code = assignments.agency_code

),

reported_tasks as (

    select
        agency_code,
        task_code,
        period,
        count(*) as activities_reported,
        count(*) filter (where is_completed) as activities_completed,
        count(*) filter (where is_in_progress) as activities_in_progress,
        count(*) filter (where is_not_started) as activities_not_started,
        count(*) filter (where is_paused) as activities_paused,
        count(*) filter (where is_overdue) as activities_overdue,
        count(*) filter (where is_completed_on_time) as activities_completed_on_time,
        count(*) filter (where is_completed_late) as activities_completed_late,
        sum(planned_quantity) filter (
            where indicator_code = 'kinh_phi_huy_dong' and unit_code = 'dong'
        ) as funds_planned_vnd,
        sum(achieved_quantity) filter (
            where indicator_code = 'kinh_phi_huy_dong' and unit_code = 'dong'
        ) as funds_mobilised_vnd,
        sum(achieved_in_period) filter (
            where indicator_code = 'kinh_phi_huy_dong' and unit_code = 'dong'
        ) as funds_mobilised_in_period_vnd
    from activities
    group by agency_code, task_code, period

),

combined as (

    select
        coalesce(expected_tasks.agency_code, reported_tasks.agency_code) as agency_code,
        coalesce(expected_tasks.task_code, reported_tasks.task_code) as task_code,
        coalesce(expected_tasks.period, reported_tasks.period) as period,
        expected_tasks.deadline_on,
        coalesce(expected_tasks.is_due, false) as is_due,
        expected_tasks.agency_code is not null as is_expected,
        reported_tasks.activities_reported,
        reported_tasks.activities_completed,
        reported_tasks.activities_in_progress,
        reported_tasks.activities_not_started,
        reported_tasks.activities_paused,
        reported_tasks.activities_overdue,
        reported_tasks.activities_completed_on_time,
        reported_tasks.activities_completed_late,
        reported_tasks.funds_planned_vnd,
        reported_tasks.funds_mobilised_vnd,
        reported_tasks.funds_mobilised_in_period_vnd
    from expected_tasks
    full outer join reported_tasks
        on
            expected_tasks.agency_code = reported_tasks.agency_code
            and expected_tasks.task_code = reported_tasks.task_code
            and expected_tasks.period = reported_tasks.period

),

final as (

    select
        combined.agency_code,
        combined.task_code,
        combined.period,
        periods.period_type,
        periods.period_year,
        periods.period_start,
        periods.period_end,
        combined.deadline_on,
        combined.is_expected,
        assignments.agency_code is not null as is_assigned_task,
        combined.is_due,
        reports.submission_id,
        reports.submission_id is not null as has_current_report,
        coalesce(combined.activities_reported, 0) > 0 as is_task_reported,
        coalesce(combined.activities_reported, 0) as activities_reported,
        coalesce(combined.activities_completed, 0) as activities_completed,
        coalesce(combined.activities_in_progress, 0) as activities_in_progress,
        coalesce(combined.activities_not_started, 0) as activities_not_started,
        coalesce(combined.activities_paused, 0) as activities_paused,
        coalesce(combined.activities_overdue, 0) as activities_overdue,
        coalesce(combined.activities_completed_on_time, 0) as activities_completed_on_time,
        coalesce(combined.activities_completed_late, 0) as activities_completed_late,
        trim_scale(
            combined.activities_completed::numeric / nullif(combined.activities_reported, 0)
        ) as completion_rate,
        trim_scale(
            combined.activities_completed_on_time::numeric / nullif(combined.activities_completed, 0)
        ) as on_time_completion_rate,
        combined.funds_planned_vnd,
        combined.funds_mobilised_vnd,
        combined.funds_mobilised_in_period_vnd
    from combined
    inner join periods
        on combined.period = periods.period
    left join assignments
        on
            combined.agency_code = assignments.agency_code
            and combined.task_code = assignments.task_code
    left join reports
        on
            combined.agency_code = reports.agency_code
            and combined.period = reports.period

)

select * from final
