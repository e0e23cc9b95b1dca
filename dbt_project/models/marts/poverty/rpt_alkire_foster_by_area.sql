-- Alkire–Foster headline measures per area, review
-- year and standard: headcount H = q / n, intensity A = mean deprivation score c_i of the
-- poor, adjusted headcount M0 = H × A, household-weighted (n = all resident households) and
-- person-weighted (each household weighted by its members). With c_i = Σ_j w_j·x_ij and
-- w_j = relative_weight_j / Σ relative weights, the sum of c_i over the poor is
-- poor_weighted_deprivations / total_relative_weight, so every measure is a ratio of
-- summed counts and re-aggregates (rates never averaged).

with

areas as (

    select
        {{ area_columns() }},
        review_year,
        standard_code,
        is_official_standard,
        communes_reporting,
        total_households,
        total_members,
        poor_households,
        poor_members
    from {{ ref('rpt_poverty_indicators_by_area') }}

),

indicator_rows as (

    select
        area_level,
        area_code,
        review_year,
        standard_code,
        relative_weight,
        poor_weighted_deprivations,
        poor_member_weighted_deprivations
    from {{ ref('rpt_alkire_foster_indicators_by_area') }}

),

standards as (

    select
        standard_code,
        deprivation_cutoff
    from {{ ref('dim_poverty_standard') }}

),

deprivation_sums as (

    select
        area_level,
        area_code,
        review_year,
        standard_code,
        count(*) as indicator_count,
        sum(relative_weight) as total_relative_weight,
        sum(poor_weighted_deprivations) as poor_weighted_deprivations,
        sum(poor_member_weighted_deprivations) as poor_member_weighted_deprivations
    from indicator_rows
    group by
        area_level,
        area_code,
        review_year,
        standard_code

),

joined as (

    select
        areas.*,
        standards.deprivation_cutoff as deprivation_cutoff,
        deprivation_sums.indicator_count as indicator_count,
        deprivation_sums.total_relative_weight as total_relative_weight,
        coalesce(deprivation_sums.poor_weighted_deprivations, 0) as poor_weighted_deprivations,
        coalesce(deprivation_sums.poor_member_weighted_deprivations, 0)
            as poor_member_weighted_deprivations
    from areas
    inner join standards
        on areas.standard_code = standards.standard_code
    left join deprivation_sums
        on
            areas.area_level = deprivation_sums.area_level
            and areas.area_code = deprivation_sums.area_code
            and areas.review_year = deprivation_sums.review_year
            and areas.standard_code = deprivation_sums.standard_code

),

final as (

    select
        {{ area_columns() }},
        review_year,
        standard_code,
        is_official_standard,
        communes_reporting,
        indicator_count,
        total_relative_weight,
        deprivation_cutoff,
        trim_scale(deprivation_cutoff::numeric / nullif(total_relative_weight, 0))
            as deprivation_cutoff_share,
        total_households,
        total_members,
        poor_households,
        poor_members,
        poor_weighted_deprivations,
        poor_member_weighted_deprivations
        {#- H, A and M0 counted in households, then in persons -#}
        {%- for units, deprivations, suffix in [
            ('households', 'poor_weighted_deprivations', ''),
            ('members', 'poor_member_weighted_deprivations', '_persons'),
        ] %},
        trim_scale(poor_{{ units }}::numeric / nullif(total_{{ units }}, 0))
            as headcount_ratio{{ suffix }},
        trim_scale(
            {{ deprivations }}::numeric
            / nullif(total_relative_weight * poor_{{ units }}, 0)
        ) as intensity{{ suffix }},
        trim_scale(
            {{ deprivations }}::numeric
            / nullif(total_relative_weight * total_{{ units }}, 0)
        ) as adjusted_headcount_ratio{{ suffix }}
        {%- endfor %}
    from joined

)

select * from final
