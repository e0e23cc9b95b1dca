-- Poverty indicators by commune, district and province. District and province counts are
-- sums over their communes and rates are recomputed from the summed counts, never averaged
-- (shared/domain/poverty-standards.md §3).

with

indicators as (

    select * from {{ ref('fct_poverty_indicators') }}

),

communes as (

    select
        commune_code,
        commune_name
    from {{ ref('dim_commune') }}

),

districts as (

    select distinct
        district_code,
        district_name
    from {{ ref('dim_commune') }}

),

provinces as (

    select distinct
        province_code,
        province_name
    from {{ ref('dim_commune') }}

),

commune_rows as (

    select
        'commune' as area_level,
        indicators.commune_code as area_code,
        communes.commune_name as area_name,
        indicators.district_code as parent_area_code,
        indicators.review_year as review_year,
        indicators.standard_code as standard_code,
        indicators.is_official_standard as is_official_standard,
        1::bigint as communes_reporting,
        indicators.total_households as total_households,
        indicators.total_members as total_members,
        indicators.reviewed_households as reviewed_households,
        indicators.poor_households as poor_households,
        indicators.near_poor_households as near_poor_households,
        indicators.poor_members as poor_members,
        indicators.near_poor_members as near_poor_members,
        indicators.households_classified_exact as households_classified_exact,
        indicators.households_classified_proxy as households_classified_proxy,
        indicators.households_unclassifiable as households_unclassifiable
    from indicators
    left join communes
        on indicators.commune_code = communes.commune_code

),

district_rows as (

    select
        'district' as area_level,
        indicators.district_code as area_code,
        districts.district_name as area_name,
        min(indicators.province_code) as parent_area_code,
        indicators.review_year as review_year,
        indicators.standard_code as standard_code,
        indicators.is_official_standard as is_official_standard,
        count(*) as communes_reporting,
        sum(indicators.total_households) as total_households,
        sum(indicators.total_members) as total_members,
        sum(indicators.reviewed_households) as reviewed_households,
        sum(indicators.poor_households) as poor_households,
        sum(indicators.near_poor_households) as near_poor_households,
        sum(indicators.poor_members) as poor_members,
        sum(indicators.near_poor_members) as near_poor_members,
        sum(indicators.households_classified_exact) as households_classified_exact,
        sum(indicators.households_classified_proxy) as households_classified_proxy,
        sum(indicators.households_unclassifiable) as households_unclassifiable
    from indicators
    left join districts
        on indicators.district_code = districts.district_code
    where indicators.district_code is not null
    group by
        indicators.district_code,
        districts.district_name,
        indicators.review_year,
        indicators.standard_code,
        indicators.is_official_standard

),

province_rows as (

    select
        'province' as area_level,
        indicators.province_code as area_code,
        provinces.province_name as area_name,
        null::text as parent_area_code,
        indicators.review_year as review_year,
        indicators.standard_code as standard_code,
        indicators.is_official_standard as is_official_standard,
        count(*) as communes_reporting,
        sum(indicators.total_households) as total_households,
        sum(indicators.total_members) as total_members,
        sum(indicators.reviewed_households) as reviewed_households,
        sum(indicators.poor_households) as poor_households,
        sum(indicators.near_poor_households) as near_poor_households,
        sum(indicators.poor_members) as poor_members,
        sum(indicators.near_poor_members) as near_poor_members,
        sum(indicators.households_classified_exact) as households_classified_exact,
        sum(indicators.households_classified_proxy) as households_classified_proxy,
        sum(indicators.households_unclassifiable) as households_unclassifiable
    from indicators
    left join provinces
        on indicators.province_code = provinces.province_code
    where indicators.province_code is not null
    group by
        indicators.province_code,
        provinces.province_name,
        indicators.review_year,
        indicators.standard_code,
        indicators.is_official_standard

),

area_rows as (

    select * from commune_rows
    union all
    select * from district_rows
    union all
    select * from province_rows

),

final as (

    select
        area_level,
        area_code,
        area_name,
        parent_area_code,
        review_year,
        standard_code,
        is_official_standard,
        communes_reporting,
        total_households,
        total_members,
        reviewed_households,
        poor_households,
        near_poor_households,
        poor_members,
        near_poor_members,
        -- trim_scale: full precision without trailing zeros (0.03, not 0.0300…)
        trim_scale(poor_households::numeric / nullif(total_households, 0)) as poor_rate,
        trim_scale(near_poor_households::numeric / nullif(total_households, 0))
            as near_poor_rate,
        trim_scale(
            (poor_households + near_poor_households)::numeric / nullif(total_households, 0)
        ) as multidimensional_poverty_rate,
        households_classified_exact,
        households_classified_proxy,
        households_unclassifiable
    from area_rows

)

select * from final
