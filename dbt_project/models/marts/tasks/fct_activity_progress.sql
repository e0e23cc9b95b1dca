-- Agency × activity × period: each activity as the agency's current report for the period
-- gives it — planned quantity, achieved quantity cumulative to the period's end, achieved
-- during the period, progress against plan, status and timeliness — so an activity can be
-- followed across periods by its stable code.

with

activities as (

    select * from {{ ref('int_agency_activities_assessed') }}

),

final as (

    select
        agency_code,
        activity_code,
        period,
        period_type,
        period_year,
        period_start,
        period_end,
        submission_id,
        task_code,
        activity_description,
        indicator_code,
        unit_code,
        funding_source,
        planned_quantity,
        achieved_quantity as achieved_cumulative_quantity,
        achieved_in_period as achieved_in_period_quantity,
        previous_period,
        trim_scale(achieved_quantity / nullif(planned_quantity, 0)) as progress_rate,
        activity_status,
        due_on,
        completed_on,
        is_completed,
        is_overdue,
        is_completed_on_time,
        is_completed_late
    from activities

)

select * from final
