-- The current report of each agency and period: a correction is a new file, and the newest
-- accepted one supersedes the earlier ones (docs/submitting.md).

with

reports as (

    select * from {{ ref('stg_agency_reports__submissions') }}
    where
        submission_status in ('accepted', 'accepted_with_warnings', 'superseded')
        and agency_code is not null
        and period is not null

),

periods as (

    select * from {{ ref('int_reporting_periods') }}

),

ranked as (

    select
        reports.*,
        row_number() over (
            partition by reports.agency_code, reports.period
            order by reports.received_at desc, reports.submission_id desc
        ) as recency_rank,
        count(*) over (partition by reports.agency_code, reports.period) as accepted_report_count
    from reports

),

final as (

    select
        ranked.agency_code,
        ranked.period,
        periods.period_type,
        periods.period_year,
        periods.period_start,
        periods.period_end,
        ranked.submission_id,
        ranked.prepared_on,
        ranked.received_at,
        ranked.received_on,
        ranked.submission_status,
        ranked.accepted_report_count
    from ranked
    inner join periods
        on ranked.period = periods.period
    where ranked.recency_rank = 1

)

select * from final
