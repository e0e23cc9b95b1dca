-- Where the province stands against Plan 24-KH/TU's target and the national targets
-- (ref_poverty_targets), per target and review year: the actual value, the target, the gap,
-- whether the target is met this year and whether it is on track, and the value projected for
-- the target year.
--
-- Metrics (from rpt_poverty_indicators_by_area, rates of summed counts):
--   poor_rate_percent                      100 × poor / all resident households
--   poor_rate_fall_pp                      poor rate of t−1 minus that of t, in percentage
--                                          points, both under the row's standard
--   multidimensional_poverty_rate_fall_pp  the same for (poor + near-poor) / all households
--   poor_and_near_poor_households          poor + near-poor households
-- Standard: the target's own, or (blank in the seed) the standard in force in the review year.
-- Target value: the seed's value (absolute), or value × the base review year's value under
-- the row's standard (share_of_base).
-- Projection: the least-squares line through (review_year, actual_value) of the target's
-- years up to and including this one, evaluated at the target year (intercept +
-- slope × target year, in exact numeric arithmetic); null with fewer than two years.
-- On track: from the target year on, the actual value meets the target; before it, the
-- projected value meets it (the actual value when there is no projection yet).

with

targets as (

    select * from {{ ref('ref_poverty_targets') }}

),

areas as (

    select
        area_level,
        area_code,
        area_name,
        review_year,
        standard_code,
        is_official_standard,
        total_households,
        poor_households,
        near_poor_households,
        households_classified_proxy,
        households_unclassifiable
    from {{ ref('rpt_poverty_indicators_by_area') }}

),

target_years as (

    select
        targets.target_code as target_code,
        areas.review_year as review_year,
        coalesce(targets.standard_code, areas.standard_code) as standard_code
    from targets
    inner join areas
        on
            targets.area_level = areas.area_level
            and targets.area_code = areas.area_code
            and areas.review_year between targets.first_review_year and targets.target_review_year
            and (
                targets.standard_code = areas.standard_code
                or (targets.standard_code is null and areas.is_official_standard)
            )

),

metric_inputs as (

    select
        target_years.target_code as target_code,
        target_years.review_year as review_year,
        target_years.standard_code as standard_code,
        this_year.area_name as area_name,
        this_year.total_households as total_households,
        this_year.poor_households as poor_households,
        this_year.near_poor_households as near_poor_households,
        this_year.households_classified_proxy as households_classified_proxy,
        this_year.households_unclassifiable as households_unclassifiable,
        100 * this_year.poor_households::numeric / nullif(this_year.total_households, 0)
            as poor_rate_percent,
        100 * last_year.poor_households::numeric / nullif(last_year.total_households, 0)
            as previous_poor_rate_percent,
        100 * (this_year.poor_households + this_year.near_poor_households)::numeric
        / nullif(this_year.total_households, 0) as multidimensional_poverty_rate_percent,
        100 * (last_year.poor_households + last_year.near_poor_households)::numeric
        / nullif(last_year.total_households, 0) as previous_multidimensional_poverty_rate_percent,
        base_year.poor_households + base_year.near_poor_households
            as base_poor_and_near_poor_households,
        100 * base_year.poor_households::numeric / nullif(base_year.total_households, 0)
            as base_poor_rate_percent
    from target_years
    inner join targets
        on target_years.target_code = targets.target_code
    {#- the target's area under the row's standard in the review year, the year before and the
        target's base year #}
    {%- for join_kind, alias, year in [
        ('inner', 'this_year', 'target_years.review_year'),
        ('left', 'last_year', 'target_years.review_year - 1'),
        ('left', 'base_year', 'targets.base_review_year'),
    ] %}
    {{ join_kind }} join areas as {{ alias }}
        on
            targets.area_level = {{ alias }}.area_level
            and targets.area_code = {{ alias }}.area_code
            and {{ year }} = {{ alias }}.review_year
            and target_years.standard_code = {{ alias }}.standard_code
    {%- endfor %}

),

metric_values as (

    select
        metric_inputs.*,
        case targets.metric_code
            when 'poor_rate_percent' then poor_rate_percent
            when 'poor_rate_fall_pp' then previous_poor_rate_percent - poor_rate_percent
            when 'multidimensional_poverty_rate_fall_pp'
                then previous_multidimensional_poverty_rate_percent
                - multidimensional_poverty_rate_percent
            when 'poor_and_near_poor_households' then poor_households + near_poor_households
        end as actual_value,
        case targets.metric_code
            when 'poor_rate_percent' then base_poor_rate_percent
            when 'poor_and_near_poor_households' then base_poor_and_near_poor_households
        end as base_value
    from metric_inputs
    inner join targets
        on metric_inputs.target_code = targets.target_code

),

trends as (

    -- least squares in numeric arithmetic (exact ratios): over the years so far with a value,
    -- slope = (n·Σxy − Σx·Σy) / (n·Σx² − (Σx)²), intercept = (Σy − slope·Σx) / n
    select
        metric_values.*,
        targets.target_review_year as target_review_year,
        case targets.target_basis
            when 'absolute' then targets.target_value
            when 'share_of_base' then targets.target_value * metric_values.base_value
        end as target_value,
        count(actual_value) over trend_so_far as years_in_trend,
        sum(review_year::numeric) filter (where actual_value is not null) over trend_so_far
            as sum_x,
        sum(actual_value) over trend_so_far as sum_y,
        sum(review_year::numeric * actual_value) over trend_so_far as sum_xy,
        sum(review_year::numeric * review_year) filter (where actual_value is not null)
            over trend_so_far as sum_xx
    from metric_values
    inner join targets
        on metric_values.target_code = targets.target_code
    window trend_so_far as (
        partition by metric_values.target_code
        order by metric_values.review_year
        rows between unbounded preceding and current row
    )

),

slopes as (

    select
        trends.*,
        (years_in_trend * sum_xy - sum_x * sum_y)
        / nullif(years_in_trend * sum_xx - sum_x * sum_x, 0) as trend_slope
    from trends

),

projections as (

    select
        slopes.*,
        (sum_y + trend_slope * (years_in_trend * target_review_year - sum_x))
        / nullif(years_in_trend, 0)
            as projected_value
    from slopes

),

assessed as (

    select
        projections.*,
        targets.comparison as comparison,
        case targets.comparison
            when 'below' then projections.actual_value < projections.target_value
            when 'at_most' then projections.actual_value <= projections.target_value
            when 'at_least' then projections.actual_value >= projections.target_value
        end as is_target_met,
        case targets.comparison
            when 'below' then projections.projected_value < projections.target_value
            when 'at_most' then projections.projected_value <= projections.target_value
            when 'at_least' then projections.projected_value >= projections.target_value
        end as is_projection_met
    from projections
    inner join targets
        on projections.target_code = targets.target_code

),

final as (

    select
        targets.target_code as target_code,
        assessed.review_year as review_year,
        targets.target_name_vi as target_name_vi,
        targets.target_name_en as target_name_en,
        targets.source_document as source_document,
        targets.is_confirmed as is_target_confirmed,
        targets.area_level as area_level,
        targets.area_code as area_code,
        assessed.area_name as area_name,
        assessed.standard_code as standard_code,
        targets.metric_code as metric_code,
        targets.unit as unit,
        targets.comparison as comparison,
        targets.base_review_year as base_review_year,
        targets.target_review_year as target_review_year,
        assessed.review_year >= targets.target_review_year as is_target_year_reached,
        assessed.total_households as total_households,
        assessed.poor_households as poor_households,
        assessed.near_poor_households as near_poor_households,
        assessed.households_classified_proxy as households_classified_proxy,
        assessed.households_unclassifiable as households_unclassifiable,
        trim_scale(assessed.base_value) as base_value,
        trim_scale(assessed.actual_value) as actual_value,
        trim_scale(assessed.target_value) as target_value,
        targets.target_value_upper as target_value_upper,
        trim_scale(assessed.actual_value - assessed.target_value) as gap,
        assessed.is_target_met as is_target_met,
        assessed.years_in_trend as years_in_trend,
        trim_scale(assessed.trend_slope) as trend_slope_per_year,
        trim_scale(assessed.projected_value) as projected_value,
        case
            when assessed.review_year >= targets.target_review_year then assessed.is_target_met
            when assessed.projected_value is not null then assessed.is_projection_met
            else assessed.is_target_met
        end as is_on_track
    from assessed
    inner join targets
        on assessed.target_code = targets.target_code

)

select * from final
