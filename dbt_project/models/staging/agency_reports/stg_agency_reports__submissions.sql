with

submissions as (

    select
        submission_id,
        path,
        submitter_code,
        period,
        received_at,
        status,
        superseded_by,
        row_count,
        error_count,
        warning_count
    from {{ source('audit', 'submissions') }}
    where contract = 'agency_task_report'

),

report_info as (

    -- nguoi_lap is personal data: not selected
    select
        submission_id,
        ma_don_vi,
        ky_bao_cao,
        ngay_lap
    from {{ source('agency_reports', 'agency_report_info') }}

),

renamed as (

    select
        submissions.submission_id as submission_id,
        coalesce(report_info.ma_don_vi, submissions.submitter_code) as agency_code,
        coalesce(report_info.ky_bao_cao, submissions.period) as period,
        report_info.ngay_lap as prepared_on,
        submissions.received_at as received_at,
        (submissions.received_at at time zone 'Asia/Ho_Chi_Minh')::date as received_on,
        submissions.status as submission_status,
        submissions.status in ('accepted', 'accepted_with_warnings') as is_current,
        submissions.superseded_by as superseded_by_submission_id,
        submissions.path as landing_path,
        coalesce(submissions.row_count, 0) as activity_row_count,
        submissions.error_count as error_count,
        submissions.warning_count as warning_count
    from submissions
    left join report_info
        on submissions.submission_id = report_info.submission_id

)

select * from renamed
