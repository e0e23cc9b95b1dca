-- District, province and current-commune rows of rpt_poverty_indicators_by_area equal the
-- sums of their communes' rows (rates of a district or province come from summed counts).
-- Returns the mismatching area rows.

with

report as (

    select * from {{ ref('rpt_poverty_indicators_by_area') }}

),

indicators as (

    select
        commune_code,
        district_code,
        province_code,
        current_commune_code,
        review_year,
        standard_code
    from {{ ref('fct_poverty_indicators') }}

),

commune_rows as (

    select
        report.*,
        indicators.district_code as district_code,
        indicators.province_code as province_code,
        indicators.current_commune_code as current_commune_code
    from report
    inner join indicators
        on
            report.area_code = indicators.commune_code
            and report.review_year = indicators.review_year
            and report.standard_code = indicators.standard_code
    where report.area_level = 'commune'

),

expected as (

    select
        'district' as area_level,
        district_code as area_code,
        review_year,
        standard_code,
        count(*) as communes_reporting,
        sum(total_households) as total_households,
        sum(total_members) as total_members,
        sum(reviewed_households) as reviewed_households,
        sum(poor_households) as poor_households,
        sum(near_poor_households) as near_poor_households,
        sum(poor_members) as poor_members,
        sum(near_poor_members) as near_poor_members,
        sum(households_classified_exact) as households_classified_exact,
        sum(households_classified_proxy) as households_classified_proxy,
        sum(households_unclassifiable) as households_unclassifiable
    from commune_rows
    where district_code is not null
    group by district_code, review_year, standard_code

    union all

    select
        'province' as area_level,
        province_code as area_code,
        review_year,
        standard_code,
        count(*) as communes_reporting,
        sum(total_households) as total_households,
        sum(total_members) as total_members,
        sum(reviewed_households) as reviewed_households,
        sum(poor_households) as poor_households,
        sum(near_poor_households) as near_poor_households,
        sum(poor_members) as poor_members,
        sum(near_poor_members) as near_poor_members,
        sum(households_classified_exact) as households_classified_exact,
        sum(households_classified_proxy) as households_classified_proxy,
        sum(households_unclassifiable) as households_unclassifiable
    from commune_rows
    where province_code is not null
    group by province_code, review_year, standard_code

    union all

    select
        'current_commune' as area_level,
        current_commune_code as area_code,
        review_year,
        standard_code,
        count(*) as communes_reporting,
        sum(total_households) as total_households,
        sum(total_members) as total_members,
        sum(reviewed_households) as reviewed_households,
        sum(poor_households) as poor_households,
        sum(near_poor_households) as near_poor_households,
        sum(poor_members) as poor_members,
        sum(near_poor_members) as near_poor_members,
        sum(households_classified_exact) as households_classified_exact,
        sum(households_classified_proxy) as households_classified_proxy,
        sum(households_unclassifiable) as households_unclassifiable
    from commune_rows
    where current_commune_code is not null
    group by current_commune_code, review_year, standard_code

),

actual as (

    select
        area_level,
        area_code,
        review_year,
        standard_code,
        communes_reporting,
        total_households,
        total_members,
        reviewed_households,
        poor_households,
        near_poor_households,
        poor_members,
        near_poor_members,
        households_classified_exact,
        households_classified_proxy,
        households_unclassifiable
    from report
    where area_level in ('district', 'province', 'current_commune')

),

mismatches as (

    (select 'missing or different in report' as failure, * from expected
     except
     select 'missing or different in report' as failure, * from actual)

    union all

    (select 'not the sum of its communes' as failure, * from actual
     except
     select 'not the sum of its communes' as failure, * from expected)

)

select * from mismatches
