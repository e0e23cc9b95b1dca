-- Every reporting period a submission can cover — the years, quarters and months of 2000–2050 —
-- keyed by its text as submitted (2024, 2024-Q1, 2024-03), with its first and last day.

with

years as (

    select generate_series(2000, 2050) as period_year

),

year_periods as (

    select
        period_year::text as period,
        'year' as period_type,
        period_year,
        make_date(period_year, 1, 1) as period_start
    from years

),

quarter_periods as (

    select
        period_year || '-Q' || quarter_number as period,
        'quarter' as period_type,
        period_year,
        make_date(period_year, 3 * quarter_number - 2, 1) as period_start
    from years
    cross join generate_series(1, 4) as quarter_number

),

month_periods as (

    select
        period_year || '-' || lpad(month_number::text, 2, '0') as period,
        'month' as period_type,
        period_year,
        make_date(period_year, month_number, 1) as period_start
    from years
    cross join generate_series(1, 12) as month_number

),

all_periods as (

    select * from year_periods
    union all
    select * from quarter_periods
    union all
    select * from month_periods

),

final as (

    select
        period,
        period_type,
        period_year,
        period_start,
        (
            period_start
            + case period_type
                when 'year' then interval '1 year'
                when 'quarter' then interval '3 months'
                else interval '1 month'
            end
            - interval '1 day'
        )::date as period_end
    from all_periods

)

select * from final
