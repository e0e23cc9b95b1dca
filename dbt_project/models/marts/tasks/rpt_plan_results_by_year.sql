-- The plan's measured results for the province, per year and cumulative since the plan began,
-- by task × measured quantity (chi_tieu) × unit × funding source: NV4 funds mobilised by
-- source, NV3 households supported and production models, NV6 inspections, …
-- For a year Y every activity counts with its latest report ending on or before 31 Dec Y
-- (agencies report monthly, quarterly or yearly; reported quantities are cumulative), so the
-- cumulative figure of Y is the sum over activities of their latest achieved quantity, and the
-- figure of the year is the cumulative of Y minus that of Y − 1.

with

activities as (

    select * from {{ ref('int_agency_activities_assessed') }}
    where indicator_code is not null

),

indicators as (

    select * from {{ ref('ref_plan_indicators') }}

),

tasks as (

    select * from {{ ref('ref_plan_tasks') }}

),

years as (

    select generate_series(min(period_year), max(period_year)) as result_year
    from activities

),

state_at_year_end as (

    select
        years.result_year,
        activities.agency_code,
        activities.activity_code,
        activities.task_code,
        activities.indicator_code,
        activities.unit_code,
        coalesce(activities.funding_source, 'khong_ap_dung') as funding_source,
        activities.planned_quantity,
        activities.achieved_quantity,
        activities.is_completed,
        row_number() over (
            partition by years.result_year, activities.agency_code, activities.activity_code
            order by activities.period_end desc, activities.period_start asc, activities.period desc
        ) as recency_rank
    from years
    inner join activities
        on activities.period_end <= make_date(years.result_year, 12, 31)

),

cumulative as (

    select
        result_year,
        task_code,
        indicator_code,
        unit_code,
        funding_source,
        count(distinct agency_code) as agency_count,
        count(*) as activity_count,
        count(*) filter (where is_completed) as completed_activity_count,
        sum(planned_quantity) as planned_cumulative_quantity,
        sum(achieved_quantity) as achieved_cumulative_quantity
    from state_at_year_end
    where recency_rank = 1
    group by result_year, task_code, indicator_code, unit_code, funding_source

),

with_year as (

    select
        cumulative.*,
        cumulative.achieved_cumulative_quantity - coalesce(
            lag(cumulative.achieved_cumulative_quantity) over result_history, 0
        ) as achieved_in_year_quantity,
        cumulative.planned_cumulative_quantity - coalesce(
            lag(cumulative.planned_cumulative_quantity) over result_history, 0
        ) as planned_in_year_quantity
    from cumulative
    window result_history as (
        partition by
            cumulative.task_code, cumulative.indicator_code, cumulative.unit_code, cumulative.funding_source
        order by cumulative.result_year
    )

),

final as (

    select
        with_year.result_year,
        with_year.task_code,
        tasks.task_title_vi,
        with_year.indicator_code,
        indicators.label_vi as indicator_label_vi,
        indicators.label_en as indicator_label_en,
        with_year.unit_code,
        with_year.funding_source,
        with_year.agency_count,
        with_year.activity_count,
        with_year.completed_activity_count,
        with_year.planned_in_year_quantity,
        with_year.achieved_in_year_quantity,
        with_year.planned_cumulative_quantity,
        with_year.achieved_cumulative_quantity,
        trim_scale(
            with_year.achieved_cumulative_quantity / nullif(with_year.planned_cumulative_quantity, 0)
        ) as cumulative_progress_rate
    from with_year
    left join tasks
        on with_year.task_code = tasks.task_code
    left join indicators
        on with_year.indicator_code = indicators.indicator_code

)

select * from final
