-- What a commune code stands for on any day: the unit version it names itself, or — once the
-- code was closed or its unit reorganised — the unit its territory merged into. A row per
-- (code, period); resolve a code on a day with period_from ≤ day < period_to (null: open).
-- 28531 (closed 1 Nov 2024) names itself until then, TT Tân Hiệp 28519 until 1 Jul 2025,
-- and the 2025 unit that took in 28519 from then on.

with recursive

versions as (

    select * from {{ ref('int_commune_versions') }}

),

successions as (

    select * from {{ ref('int_commune_successions') }}

),

-- the code a submitted code leads to from `since` on, following the mergers in date order
chains (submitted_code, commune_code, since, merged_on) as (

    select distinct
        commune_code as submitted_code,
        commune_code,
        '-infinity'::date,
        null::date
    from versions

    union all

    select
        chains.submitted_code,
        successions.successor_code,
        successions.effective_date,
        -- a unit that only kept its code (1 Jul 2025) moved no territory: the merger stays the
        -- one that took the code into it
        case
            when successions.successor_code = successions.predecessor_code then chains.merged_on
            else successions.effective_date
        end
    from chains
    inner join successions
        on
            chains.commune_code = successions.predecessor_code
            and successions.effective_date > chains.since

),

chain_periods as (

    select
        submitted_code,
        commune_code,
        since,
        coalesce(
            lead(since) over (partition by submitted_code order by since), 'infinity'::date
        ) as until,
        merged_on
    from chains

),

final as (

    select
        chain_periods.submitted_code,
        greatest(chain_periods.since, versions.valid_from) as period_from,
        nullif(
            least(chain_periods.until, coalesce(versions.valid_to, 'infinity'::date)),
            'infinity'::date
        ) as period_to,
        versions.commune_version_key,
        versions.commune_code,
        versions.district_code,
        versions.province_code,
        case
            when versions.commune_code <> chain_periods.submitted_code then chain_periods.merged_on
        end as merged_on
    from chain_periods
    inner join versions
        on
            chain_periods.commune_code = versions.commune_code
            and versions.valid_from < chain_periods.until
            and coalesce(versions.valid_to, 'infinity'::date) > chain_periods.since

)

select * from final
