-- Every version of every commune-level unit (SCD type 2 rows, valid_from ≤ day < valid_to):
-- the units of the 2024 list from the start of records to the 2025 reorganisation, split where
-- a 2024 merger grew them, they were renamed or changed type (ref_commune_renames: Xã Bình Phú
-- became a thị trấn on 1 Oct 2022) or their district was renamed; the communes closed by the
-- 2024 mergers until their closing day; the 2025 units from 1 Jul 2025 on (no districts).

with

communes_2024 as (

    select * from {{ ref('ref_communes_2024') }}

),

communes_2025 as (

    select * from {{ ref('ref_communes_2025') }}

),

mergers_2024 as (

    select * from {{ ref('ref_commune_mergers_2024') }}

),

district_renames as (

    select * from {{ ref('ref_district_renames') }}

),

commune_renames as (

    select * from {{ ref('ref_commune_renames') }}

),

reorganisation_2025 as (

    select min(effective_date) as effective_date
    from {{ ref('ref_commune_successions_2025') }}

),

districts as (

    select distinct
        district_code,
        district_name,
        province_code,
        province_name
    from communes_2024

),

pre_2025_units as (

    select
        communes_2024.commune_code,
        communes_2024.commune_name,
        communes_2024.unit_type,
        communes_2024.district_code,
        communes_2024.district_name,
        communes_2024.province_code,
        communes_2024.province_name,
        {{ records_start() }} as unit_start,
        reorganisation_2025.effective_date as unit_end
    from communes_2024
    cross join reorganisation_2025

    union all

    select
        mergers_2024.predecessor_code,
        mergers_2024.predecessor_name,
        mergers_2024.predecessor_unit_type,
        mergers_2024.district_code,
        districts.district_name,
        districts.province_code,
        districts.province_name,
        {{ records_start() }},
        mergers_2024.effective_date
    from mergers_2024
    inner join districts
        on mergers_2024.district_code = districts.district_code

),

-- the days a unit's attributes change within its life
change_days as (

    select
        successor_code as commune_code,
        effective_date as change_day
    from mergers_2024

    union

    select
        pre_2025_units.commune_code,
        district_renames.effective_date
    from pre_2025_units
    inner join district_renames
        on pre_2025_units.district_code = district_renames.district_code

    union

    select
        commune_code,
        effective_date
    from commune_renames

),

bounds as (

    select
        commune_code,
        unit_start as bound
    from pre_2025_units

    union

    select
        pre_2025_units.commune_code,
        change_days.change_day
    from pre_2025_units
    inner join change_days
        on
            pre_2025_units.commune_code = change_days.commune_code
            and change_days.change_day > pre_2025_units.unit_start
            and change_days.change_day < pre_2025_units.unit_end

    union

    select
        commune_code,
        unit_end
    from pre_2025_units

),

intervals as (

    select
        commune_code,
        bound as valid_from,
        lead(bound) over (partition by commune_code order by bound) as valid_to
    from bounds

),

pre_2025_versions as (

    select
        intervals.commune_code,
        {{ before_change('commune_renames', 'name_before', 'pre_2025_units.commune_name') }}
            as commune_name,
        {{ before_change('commune_renames', 'unit_type_before', 'pre_2025_units.unit_type') }}
            as unit_type,
        pre_2025_units.district_code,
        {{ before_change('district_renames', 'name_before', 'pre_2025_units.district_name') }}
            as district_name,
        pre_2025_units.province_code,
        pre_2025_units.province_name,
        intervals.valid_from,
        intervals.valid_to
    from intervals
    inner join pre_2025_units
        on intervals.commune_code = pre_2025_units.commune_code
    left join district_renames
        on pre_2025_units.district_code = district_renames.district_code
    left join commune_renames
        on intervals.commune_code = commune_renames.commune_code
    where intervals.valid_to is not null

),

post_2025_versions as (

    select
        communes_2025.commune_code,
        communes_2025.commune_name,
        communes_2025.unit_type,
        null::text as district_code,
        null::text as district_name,
        communes_2025.province_code,
        communes_2025.province_name,
        reorganisation_2025.effective_date as valid_from,
        null::date as valid_to
    from communes_2025
    cross join reorganisation_2025

),

versions as (

    select * from pre_2025_versions
    union all
    select * from post_2025_versions

),

final as (

    select
        commune_code || '@' || valid_from::text as commune_version_key,
        commune_code,
        commune_name,
        unit_type,
        -- phường and thị trấn are urban units, xã rural (Resolution 1211/2016/UBTVQH13)
        case when unit_type = 'xa' then 'rural' else 'urban' end as urban_rural,
        district_code,
        district_name,
        province_code,
        province_name,
        valid_from,
        valid_to
    from versions

)

select * from final
