-- Commune-level units with their history (SCD type 2): a row per version, valid on
-- valid_from ≤ day < valid_to (valid_to null: still valid), with the unit that holds the
-- version's territory today.

with

versions as (

    select * from {{ ref('int_commune_versions') }}

),

code_periods as (

    select
        submitted_code,
        commune_code
    from {{ ref('int_commune_code_periods') }}
    where period_to is null

),

final as (

    select
        versions.commune_version_key,
        versions.commune_code,
        versions.commune_name,
        versions.unit_type,
        versions.urban_rural,
        versions.district_code,
        versions.district_name,
        versions.province_code,
        versions.province_name,
        versions.valid_from,
        versions.valid_to,
        versions.valid_to is null as is_current,
        code_periods.commune_code as current_commune_code
    from versions
    left join code_periods
        on versions.commune_code = code_periods.submitted_code

)

select * from final
