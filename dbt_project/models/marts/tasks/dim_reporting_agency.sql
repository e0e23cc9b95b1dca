with

agencies as (

    select * from {{ ref('ref_reporting_agencies') }}

),

assignments as (

    select
        agency_code,
        string_agg(task_code, ',' order by task_code) as expected_task_codes,
        count(*) as expected_task_count
    from {{ ref('ref_agency_tasks') }}
    group by agency_code

),

final as (

    -- the registry's contact columns are left out: the BI surface carries no personal data
    select
        agencies.agency_code,
        agencies.agency_name_vi,
        agencies.agency_name_en,
        agencies.agency_group,
        agencies.agency_group_name_vi,
        agencies.agency_group_name_en,
        agencies.district_code,
        agencies.reporting_frequency,
        agencies.active_from,
        agencies.active_to,
        coalesce(assignments.expected_task_codes, '') as expected_task_codes,
        coalesce(assignments.expected_task_count, 0) as expected_task_count
    from agencies
    left join assignments
        on agencies.agency_code = assignments.agency_code

)

select * from final
