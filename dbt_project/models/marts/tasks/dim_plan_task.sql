with

tasks as (

    select * from {{ ref('ref_plan_tasks') }}

),

assignments as (

    select
        task_code,
        count(*) as assigned_agency_count
    from {{ ref('ref_agency_tasks') }}
    group by task_code

),

final as (

    select
        tasks.task_code,
        tasks.task_number,
        tasks.task_title_vi,
        tasks.task_text_vi,
        tasks.task_summary_en,
        tasks.measures_en,
        tasks.legal_source,
        coalesce(assignments.assigned_agency_count, 0) as assigned_agency_count
    from tasks
    left join assignments
        on tasks.task_code = assignments.task_code

)

select * from final
