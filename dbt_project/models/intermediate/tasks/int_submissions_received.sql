-- Every recorded submission file, commune reviews and agency reports alike, with the kind of
-- submission (reporting calendar) and the period it is for — the received side of the
-- submission-status fact. Files whose submitter or period could not be read keep nulls there.

with

calendar as (

    select * from {{ ref('ref_reporting_calendar') }}

),

periods as (

    select * from {{ ref('int_reporting_periods') }}

),

commune_files as (

    select
        submission_id,
        commune_code,
        review_year,
        review_month,
        -- a file whose review type is missing or invalid counts by its month
        case
            when review_type in ('dinh_ky', 'thuong_xuyen') then review_type
            when review_month is not null then 'thuong_xuyen'
            else 'dinh_ky'
        end as review_type,
        received_at,
        submission_status,
        error_count,
        landing_path
    from {{ ref('stg_commune_reviews__submissions') }}

),

commune_submissions as (

    select
        commune_files.submission_id,
        'commune' as submitter_type,
        commune_files.commune_code as submitter_code,
        calendar.submission_kind,
        case
            when commune_files.review_type = 'thuong_xuyen'
                then case
                    when commune_files.review_month between 1 and 12
                        then commune_files.review_year || '-' || lpad(commune_files.review_month::text, 2, '0')
                end
            else coalesce(
                commune_files.review_year::text,
                substring(commune_files.landing_path from '^communes/(\d{4})/')
            )
        end as period,
        commune_files.received_at,
        commune_files.submission_status,
        commune_files.error_count,
        commune_files.landing_path
    from commune_files
    left join calendar
        on
            calendar.submitter_type = 'commune'
            and commune_files.review_type = calendar.review_type

),

agency_submissions as (

    select
        agency_files.submission_id,
        'agency' as submitter_type,
        agency_files.agency_code as submitter_code,
        calendar.submission_kind,
        agency_files.period,
        agency_files.received_at,
        agency_files.submission_status,
        agency_files.error_count,
        agency_files.landing_path
    from {{ ref('stg_agency_reports__submissions') }} as agency_files
    left join periods
        on agency_files.period = periods.period
    left join calendar
        on
            calendar.submitter_type = 'agency'
            and periods.period_type = calendar.period_type

),

all_submissions as (

    select * from commune_submissions
    union all
    select * from agency_submissions

),

outcomes as (

    select * from {{ ref('int_submission_outcomes') }}

),

final as (

    select
        all_submissions.submission_id,
        all_submissions.submitter_type,
        all_submissions.submitter_code,
        all_submissions.submission_kind,
        all_submissions.period,
        all_submissions.received_at,
        (all_submissions.received_at at time zone 'Asia/Ho_Chi_Minh')::date as received_on,
        outcomes.submission_status,
        outcomes.submission_status in ('accepted', 'accepted_with_warnings', 'superseded')
            as is_accepted,
        outcomes.submission_status in ('accepted', 'accepted_with_warnings') as is_current,
        all_submissions.error_count,
        all_submissions.landing_path
    from all_submissions
    inner join outcomes
        on all_submissions.submission_id = outcomes.submission_id

)

select * from final
