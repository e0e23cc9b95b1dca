with

communes as (

    select * from {{ ref('ref_communes') }}

),

final as (

    select
        commune_code,
        commune_name,
        unit_type,
        district_code,
        district_name,
        province_code,
        province_name
    from communes

)

select * from final
