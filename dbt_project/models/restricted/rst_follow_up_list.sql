-- The follow-up lists (poverty_pipeline.followup writes one workbook per period): every
-- submission of fct_submission_status to chase (follow_up_reason set), and every rejected file
-- no row of it accounts for (its submitter or period unreadable), with the newest file, its
-- first error and the three contacts the list chooses from — the file's own preparer, the
-- submitter's most recent one, the registry's. Personal data: schema restricted only.

with

submissions as (

    select * from {{ source('audit', 'submissions') }}

),

contacts as (

    select * from {{ source('contacts', 'submission_contacts') }}

),

status as (

    select * from {{ ref('fct_submission_status') }}

),

agencies as (

    select * from {{ ref('ref_reporting_agencies') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from status

),

-- the contract of each kind of submitter, as the reporting calendar pairs them
contracts as (

    select distinct
        submitter_type,
        contract
    from {{ ref('ref_reporting_calendar') }}

),

-- the submitter's most recent file that names someone
latest_contacts as (

    select distinct on (submissions.contract, submissions.submitter_code)
        submissions.contract,
        submissions.submitter_code,
        contacts.contact_name,
        contacts.contact_phone
    from submissions
    inner join contacts
        on submissions.submission_id = contacts.submission_id
    where
        submissions.submitter_code is not null
        and (contacts.contact_name is not null or contacts.contact_phone is not null)
    order by
        submissions.contract asc,
        submissions.submitter_code asc,
        submissions.received_at desc,
        submissions.submission_id desc

),

attributed as (

    select
        status.period,
        status.submitter_type,
        status.submitter_code,
        status.submitter_name,
        coalesce(status.district_name, agencies.agency_group_name_vi) as group_name,
        status.submission_kind,
        status.deadline_on,
        status.follow_up_reason,
        status.days_overdue,
        status.latest_submission_id as submission_id,
        own.contact_name as own_name,
        own.contact_phone as own_phone,
        previous.contact_name as previous_name,
        previous.contact_phone as previous_phone,
        agencies.contact_name as registry_name,
        agencies.contact_phone as registry_phone,
        agencies.contact_email as registry_email
    from status
    inner join contracts
        on status.submitter_type = contracts.submitter_type
    left join contacts as own
        on status.latest_submission_id = own.submission_id
    left join latest_contacts as previous
        on
            contracts.contract = previous.contract
            and status.submitter_code = previous.submitter_code
    left join agencies
        on status.submitter_type = 'agency' and status.submitter_code = agencies.agency_code
    where status.follow_up_reason is not null

),

-- rejected files no submission-status row accounts for (submitter or period unreadable)
unattributed as (

    select
        coalesce(submissions.period, nullif(split_part(submissions.path, '/', 2), '')) as period,
        coalesce(contracts.submitter_type, 'agency') as submitter_type,
        submissions.submitter_code,
        null::text as submitter_name,
        null::text as group_name,
        null::text as submission_kind,
        null::date as deadline_on,
        'rejected' as follow_up_reason,
        null::integer as days_overdue,
        submissions.submission_id,
        contacts.contact_name as own_name,
        contacts.contact_phone as own_phone,
        null::text as previous_name,
        null::text as previous_phone,
        null::text as registry_name,
        null::text as registry_phone,
        null::text as registry_email
    from submissions
    left join contracts
        on submissions.contract = contracts.contract
    left join contacts
        on submissions.submission_id = contacts.submission_id
    where
        submissions.status = 'rejected'
        and not exists (
            select 1
            from status
            where
                status.submitter_type = coalesce(contracts.submitter_type, 'agency')
                and status.submitter_code = submissions.submitter_code
                and status.period = submissions.period
        )

),

listed as (

    select * from attributed
    union all
    select * from unattributed

),

-- the first error found in each file
first_problems as (

    select distinct on (submission_id)
        submission_id,
        message_vi,
        message_en
    from {{ source('audit', 'submission_problems') }}
    where severity = 'error'
    order by submission_id asc, problem_id asc

),

final as (

    select
        case
            when listed.submission_kind is not null
                then listed.submitter_type || ':' || listed.submitter_code || ':'
                || listed.submission_kind || ':' || listed.period
            else 'file:' || listed.submission_id
        end as follow_up_key,
        listed.period,
        listed.submitter_type,
        listed.submitter_code,
        listed.submitter_name,
        listed.group_name,
        listed.submission_kind,
        listed.deadline_on,
        listed.follow_up_reason,
        listed.days_overdue,
        listed.submission_id,
        submissions.path as latest_path,
        date_trunc('minute', submissions.received_at at time zone 'Asia/Ho_Chi_Minh') as latest_received_at,
        first_problems.message_vi as first_problem_vi,
        first_problems.message_en as first_problem_en,
        listed.own_name,
        listed.own_phone,
        listed.previous_name,
        listed.previous_phone,
        listed.registry_name,
        listed.registry_phone,
        listed.registry_email,
        as_of.as_of_date
    from listed
    cross join as_of
    left join submissions
        on listed.submission_id = submissions.submission_id
    left join first_problems
        on listed.submission_id = first_problems.submission_id

)

select * from final
