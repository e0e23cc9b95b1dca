-- Reporting completeness and timeliness (DHIS2's reporting rates) per kind of submission and
-- period, rolled up: communes by district and for the province, agencies by agency group and
-- for all agencies. Counts are over expected submissions whose deadline has passed on the
-- as-of date; rates are recomputed from the counts (never averaged), so they re-aggregate.
--   reporting_rate = accepted / expected;  on_time_rate = accepted on time / expected.

with

submissions as (

    select * from {{ ref('fct_submission_status') }}
    where is_expected

),

agency_groups as (

    select distinct
        agency_group,
        agency_group_name_vi
    from {{ ref('ref_reporting_agencies') }}

),

area_names as (

    {{ area_names() }}

),

tagged as (

    select
        submissions.*,
        case when submissions.submitter_type = 'commune' then 'district' else 'agency_group' end
            as group_level,
        case
            when submissions.submitter_type = 'commune' then submissions.district_code
            else submissions.agency_group
        end as group_code,
        case when submissions.submitter_type = 'commune' then 'province' else 'all_agencies' end
            as total_level
    from submissions

),

rolled_up as (

    select
        submitter_type,
        case when grouping(group_code) = 1 then total_level else group_level end as rollup_level,
        coalesce(group_code, case when submitter_type = 'commune' then '82' else 'all' end) as rollup_code,
        submission_kind,
        period,
        min(period_type) as period_type,
        min(period_start) as period_start,
        min(period_end) as period_end,
        min(deadline_on) as deadline_on,
        min(as_of_date) as as_of_date,
        count(*) filter (where is_due) as expected_count,
        count(*) filter (where is_due and is_received) as received_count,
        count(*) filter (where is_due and is_accepted) as accepted_count,
        count(*) filter (where is_due and outcome = 'accepted_with_warnings') as accepted_with_warnings_count,
        count(*) filter (where is_due and is_on_time) as on_time_count,
        count(*) filter (where is_due and timeliness = 'late') as late_count,
        count(*) filter (where is_due and outcome = 'rejected') as rejected_count,
        count(*) filter (where is_due and outcome = 'missing') as missing_count,
        count(*) filter (where not is_due) as not_yet_due_count
    from tagged
    group by grouping sets (
        (submitter_type, group_level, group_code, total_level, submission_kind, period),
        (submitter_type, total_level, submission_kind, period)
    )
    -- communes of a period after 1 Jul 2025 have no district: province level only
    having not (submitter_type = 'commune' and grouping(group_code) = 0 and group_code is null)

),

final as (

    select
        rolled_up.submitter_type,
        rolled_up.rollup_level,
        rolled_up.rollup_code,
        coalesce(
            district_names.area_name,
            agency_groups.agency_group_name_vi,
            case when rolled_up.rollup_level = 'province' then province.area_name end,
            case when rolled_up.rollup_level = 'all_agencies' then 'Tất cả đơn vị báo cáo' end
        ) as rollup_name,
        rolled_up.submission_kind,
        rolled_up.period,
        rolled_up.period_type,
        rolled_up.period_start,
        rolled_up.period_end,
        rolled_up.deadline_on,
        rolled_up.as_of_date,
        rolled_up.expected_count,
        rolled_up.received_count,
        rolled_up.accepted_count,
        rolled_up.accepted_with_warnings_count,
        rolled_up.on_time_count,
        rolled_up.late_count,
        rolled_up.rejected_count,
        rolled_up.missing_count,
        rolled_up.not_yet_due_count,
        trim_scale(rolled_up.accepted_count::numeric / nullif(rolled_up.expected_count, 0))
            as reporting_rate,
        trim_scale(rolled_up.on_time_count::numeric / nullif(rolled_up.expected_count, 0))
            as on_time_rate
    from rolled_up
    left join area_names as district_names
        on
            rolled_up.rollup_level = 'district'
            and district_names.area_level = 'district'
            and rolled_up.rollup_code = district_names.area_code
            and {{ within_period('rolled_up.period_end', 'district_names.valid_from', 'district_names.valid_to') }}
    left join agency_groups
        on rolled_up.rollup_level = 'agency_group' and rolled_up.rollup_code = agency_groups.agency_group
    left join area_names as province
        on
            rolled_up.rollup_level = 'province'
            and province.area_level = 'province'
            and rolled_up.rollup_code = province.area_code
            and {{ within_period('rolled_up.period_end', 'province.valid_from', 'province.valid_to') }}

)

select * from final
