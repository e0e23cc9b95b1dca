-- The status each submission ends a build with — what poverty_pipeline.quality.reconcile then records
-- in audit.submissions: the loader's status, except that a checked current periodic review is
-- accepted_with_warnings exactly when it has warnings (the loader's, or discrepancies found
-- by the reconciliation) and accepted otherwise. The marts read this rather than the recorded
-- status, so they are the same whether or not the reconciliation of a build has run yet.

with

submissions as (

    select
        submission_id,
        submission_status
    from {{ ref('stg_commune_reviews__submissions') }}

    union all

    select
        submission_id,
        submission_status
    from {{ ref('stg_agency_reports__submissions') }}

),

checked as (

    select submission_id
    from {{ ref('int_commune_reviews_current') }}

),

loader_warnings as (

    select
        submission_id,
        count(*) as warning_count
    from {{ source('audit', 'submission_problems') }}
    where severity = 'warning' and rule not like 'reconcile\_%'
    group by submission_id

),

discrepancies as (

    select
        submission_id,
        count(*) as warning_count
    from {{ ref('int_submission_discrepancies') }}
    where severity = 'warning'
    group by submission_id

),

final as (

    select
        submissions.submission_id,
        case
            when
                checked.submission_id is null
                or submissions.submission_status not in ('accepted', 'accepted_with_warnings')
                then submissions.submission_status
            when coalesce(loader_warnings.warning_count, 0) + coalesce(discrepancies.warning_count, 0) > 0
                then 'accepted_with_warnings'
            else 'accepted'
        end as submission_status
    from submissions
    left join checked
        on submissions.submission_id = checked.submission_id
    left join loader_warnings
        on submissions.submission_id = loader_warnings.submission_id
    left join discrepancies
        on submissions.submission_id = discrepancies.submission_id

)

select * from final
