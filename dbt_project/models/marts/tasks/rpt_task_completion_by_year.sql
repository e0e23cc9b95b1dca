-- Per year × agency × assigned task, its standing in the latest period of the year it reported
-- in (activities are cumulative through the year, so the latest report is the year's state;
-- without any report that year, the year's last period): the Poverty page's task table.

with

completion as (

    select * from {{ ref('fct_task_completion') }}
    where is_assigned_task

),

agencies as (

    select * from {{ ref('dim_reporting_agency') }}

),

tasks as (

    select * from {{ ref('dim_plan_task') }}

),

latest as (

    select distinct on (period_year, agency_code, task_code)
        period_year,
        agency_code,
        task_code,
        period,
        has_current_report,
        activities_reported,
        activities_completed,
        activities_overdue,
        completion_rate
    from completion
    order by
        period_year asc,
        agency_code asc,
        task_code asc,
        has_current_report desc,
        period_end desc

),

final as (

    select
        latest.period_year,
        latest.agency_code,
        agencies.agency_name_vi,
        agencies.agency_name_en,
        latest.task_code,
        tasks.task_title_vi,
        latest.period,
        latest.has_current_report,
        latest.activities_reported,
        latest.activities_completed,
        latest.activities_overdue,
        latest.completion_rate
    from latest
    left join agencies
        on latest.agency_code = agencies.agency_code
    left join tasks
        on latest.task_code = tasks.task_code

)

select * from final
