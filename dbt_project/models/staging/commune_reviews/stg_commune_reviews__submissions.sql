with

submissions as (

    select
        submission_id,
        contract,
        path,
        submitter_code,
        review_year,
        review_type,
        review_month,
        received_at,
        status,
        superseded_by,
        household_rows,
        error_count,
        warning_count
    from {{ source('audit', 'submissions') }}
    where contract = 'commune_household_review'

),

submission_info as (

    -- nguoi_lap and dien_thoai are personal data: not selected
    select
        submission_id,
        ma_tinh,
        ma_xa,
        nam_ra_soat,
        loai_ra_soat,
        thang,
        chuan_ngheo,
        ngay_lap
    from {{ source('commune_reviews', 'commune_submission_info') }}

),

renamed as (

    select
        submissions.submission_id as submission_id,
        coalesce(submission_info.ma_xa, submissions.submitter_code) as commune_code,
        submission_info.ma_tinh as province_code,
        coalesce(submission_info.nam_ra_soat, submissions.review_year)::integer as review_year,
        coalesce(submission_info.loai_ra_soat, submissions.review_type) as review_type,
        coalesce(submission_info.thang, submissions.review_month)::integer as review_month,
        submission_info.chuan_ngheo as applied_standard_code,
        submission_info.ngay_lap as prepared_on,
        submissions.received_at as received_at,
        submissions.status as submission_status,
        submissions.status in ('accepted', 'accepted_with_warnings') as is_accepted,
        submissions.superseded_by as superseded_by_submission_id,
        submissions.path as landing_path,
        submissions.household_rows as household_row_count,
        submissions.error_count as error_count,
        submissions.warning_count as warning_count
    from submissions
    left join submission_info
        on submissions.submission_id = submission_info.submission_id

)

select * from renamed
