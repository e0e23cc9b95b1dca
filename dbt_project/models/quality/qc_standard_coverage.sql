-- Every area and review year of the indicator marts under every standard of
-- dim_poverty_standard: one row per area × year × standard with the number of rows found (the
-- quality gate expects exactly 1).

with

standards as (

    select standard_code from {{ ref('dim_poverty_standard') }}

),

area_rows as (

    select
        'fct_poverty_indicators'::text as mart,
        'commune'::text as area_level,
        commune_code as area_code,
        review_year,
        standard_code
    from {{ ref('fct_poverty_indicators') }}

    union all

    select
        'rpt_poverty_indicators_by_area'::text as mart,
        area_level,
        area_code,
        review_year,
        standard_code
    from {{ ref('rpt_poverty_indicators_by_area') }}

),

areas as (

    select distinct
        mart,
        area_level,
        area_code,
        review_year
    from area_rows

),

counted as (

    select
        mart,
        area_level,
        area_code,
        review_year,
        standard_code,
        count(*) as row_count
    from area_rows
    group by mart, area_level, area_code, review_year, standard_code

),

final as (

    select
        areas.mart,
        areas.area_level,
        areas.area_code,
        areas.review_year,
        standards.standard_code,
        ''::text as detail,
        'rows'::text as measure,
        coalesce(counted.row_count, 0)::numeric as found,
        1::numeric as expected
    from areas
    cross join standards
    left join counted
        on
            areas.mart = counted.mart
            and areas.area_level = counted.area_level
            and areas.area_code = counted.area_code
            and areas.review_year = counted.review_year
            and standards.standard_code = counted.standard_code

)

select * from final
