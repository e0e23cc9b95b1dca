-- The activities of every agency's current report for each period, each assessed at the end of
-- its period: completed, in progress, overdue (due date on or before the period's last day and
-- not completed), completed on time (on or before its due date, or with none), and the quantity
-- achieved during the period (the cumulative achieved minus that of the agency's previous
-- report of the same activity).

with

reports as (

    select * from {{ ref('int_agency_reports_current') }}

),

activities as (

    select * from {{ ref('stg_agency_reports__activities') }}

),

reported as (

    select
        reports.agency_code,
        reports.period,
        reports.period_type,
        reports.period_year,
        reports.period_start,
        reports.period_end,
        reports.submission_id,
        reports.prepared_on,
        activities.source_row_number,
        activities.task_code,
        activities.activity_code,
        activities.activity_description,
        activities.indicator_code,
        activities.unit_code,
        activities.planned_quantity,
        activities.achieved_quantity,
        activities.funding_source,
        activities.activity_status,
        activities.due_on,
        activities.completed_on
    from reports
    inner join activities
        on reports.submission_id = activities.submission_id

),

assessed as (

    select
        reported.*,
        reported.activity_status = 'hoan_thanh' as is_completed,
        reported.activity_status = 'dang_thuc_hien' as is_in_progress,
        reported.activity_status = 'chua_thuc_hien' as is_not_started,
        reported.activity_status = 'tam_dung' as is_paused,
        reported.activity_status <> 'hoan_thanh'
        and reported.due_on is not null
        and reported.due_on <= reported.period_end as is_overdue,
        reported.activity_status = 'hoan_thanh'
        and (reported.due_on is null or reported.completed_on <= reported.due_on) as is_completed_on_time,
        reported.activity_status = 'hoan_thanh'
        and reported.due_on is not null
        and reported.completed_on > reported.due_on as is_completed_late,
        lag(reported.period) over activity_history as previous_period,
        lag(reported.achieved_quantity) over activity_history as previous_achieved_quantity
    from reported
    window activity_history as (
        partition by reported.agency_code, reported.activity_code
        order by reported.period_end asc, reported.period_start desc, reported.period asc
    )

),

final as (

    select
        assessed.*,
        assessed.achieved_quantity - coalesce(assessed.previous_achieved_quantity, 0) as achieved_in_period
    from assessed

)

select * from final
