-- fct_submission_status with where the newest file of each submission lies in the landing
-- location and where its feedback report was written, and the agency group's name: the
-- Submissions page's table. Landing locations are not a figure for BI: schema restricted.

with

status as (

    select * from {{ ref('fct_submission_status') }}

),

files as (

    select
        submission_id,
        path,
        feedback_url
    from {{ source('audit', 'submissions') }}

),

agencies as (

    select * from {{ ref('dim_reporting_agency') }}

),

final as (

    select
        status.period,
        status.submitter_type,
        status.submitter_code,
        status.submitter_name,
        status.submission_kind,
        status.district_code,
        status.district_name,
        status.agency_group,
        coalesce(agencies.agency_group_name_vi, status.agency_group) as agency_group_name,
        status.deadline_on,
        status.is_expected,
        status.is_due,
        status.is_received,
        status.file_count,
        status.rejected_file_count,
        status.first_received_on,
        status.first_accepted_on,
        status.outcome,
        status.timeliness,
        status.is_on_time,
        status.days_late,
        status.days_overdue,
        status.latest_submission_id,
        files.path as latest_path,
        files.feedback_url
    from status
    left join files
        on status.latest_submission_id = files.submission_id
    left join agencies
        on status.submitter_type = 'agency' and status.submitter_code = agencies.agency_code

)

select * from final
