-- A district and every commune that ever belonged to it, every review year and standard — a
-- commune's rows after the district was abolished (its parent is then the province) included:
-- the district page's drill-down, one district at a time by district_code.

with

indicators as (

    select * from {{ ref('rpt_poverty_indicators_by_area') }}

),

districts as (

    select
        area_code as district_code,
        max(area_name) as district_name
    from indicators
    where area_level = 'district'
    group by area_code

),

-- every commune that was a district's in some review year
members as (

    select distinct
        parent_area_code as district_code,
        area_code as commune_code
    from indicators
    where area_level = 'commune'

),

areas as (

    select
        districts.district_code,
        districts.district_name,
        indicators.*
    from districts
    inner join indicators
        on
            indicators.area_level = 'district'
            and districts.district_code = indicators.area_code

    union all

    select
        districts.district_code,
        districts.district_name,
        indicators.*
    from districts
    inner join members
        on districts.district_code = members.district_code
    inner join indicators
        on
            indicators.area_level = 'commune'
            and members.commune_code = indicators.area_code

),

final as (

    select
        district_code,
        district_name,
        {{ area_columns() }},
        review_year,
        standard_code,
        poor_households,
        near_poor_households,
        total_households,
        poor_rate,
        near_poor_rate
    from areas

)

select * from final
