-- Every merger that closed a commune-level unit or took it into a new one: the 2024 mergers
-- of Resolution 1202/NQ-UBTVQH15 and the 2025 reorganisation. A unit that hosted a 2025
-- merger keeps its code, so its own row reads 28249 → 28249.

with

mergers_2024 as (

    select
        predecessor_code,
        successor_code,
        effective_date,
        source
    from {{ ref('ref_commune_mergers_2024') }}

),

successions_2025 as (

    select
        predecessor_code,
        successor_code,
        effective_date,
        source
    from {{ ref('ref_commune_successions_2025') }}

),

final as (

    select * from mergers_2024
    union all
    select * from successions_2025

)

select * from final
