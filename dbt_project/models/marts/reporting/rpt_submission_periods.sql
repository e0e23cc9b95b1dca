-- Every period of fct_submission_status with how many submissions were expected and how many
-- arrived: the period picker of the Submissions page.

with

status as (

    select * from {{ ref('fct_submission_status') }}

),

final as (

    select
        period,
        max(period_end) as period_end,
        count(*) filter (where is_expected) as expected_count,
        count(*) filter (where is_received) as received_count,
        count(*) filter (where is_expected and is_received) as expected_received_count
    from status
    group by period

)

select * from final
