-- Alkire–Foster measures per indicator: for each area,
-- review year, standard and indicator of the standard, the poor households (as the standard
-- classifies them, income gate included) deprived in the indicator, the censored headcount
-- h_j = deprived poor / n and its contribution to M0, w_j·h_j / M0. Household-weighted (n =
-- all resident households) and person-weighted (n = all residents). Weights come from
-- ref_poverty_indicator_weights; a flag that is still missing after proxies counts as not
-- deprived, as in the classification's deprivation count.
--
-- No nested loops: the planner takes the area rows joined to the indicators on two columns
-- (standard, indicator) for a single row and then looks each area's name up by scanning the
-- names (36,000 rows × 315 names at scale 1: 3.2 s of 4.2 s); hashed, the model takes 0.9 s.
-- Added to the marts' own pre-hook (work_mem, jit), local to this model's transaction.
{{ config(pre_hook="set local enable_nestloop = off") }}

with

-- the poor and near-poor households (as each standard classifies them), once per indicator
-- they are deprived in (assessed: a flag still missing after proxies counts as not deprived)
deprived_households as (

    select
        household_key,
        review_year,
        standard_code,
        commune_code,
        member_count,
        classification,
        unnest(deprived_indicator_codes) as indicator_code
    from {{ ref('int_households_classified') }}
    where classification in ('poor', 'near_poor')

),

indicators as (

    select
        standard_code,
        indicator_code,
        dimension_code,
        label_vi,
        label_en
    from {{ ref('ref_poverty_indicators') }}

),

weights as (

    select
        standard_code,
        indicator_code,
        relative_weight
    from {{ ref('ref_poverty_indicator_weights') }}

),

indicator_facts as (

    select
        commune_code,
        district_code,
        province_code,
        current_commune_code,
        review_year,
        standard_code,
        is_official_standard,
        total_households,
        total_members,
        poor_households,
        poor_members,
        near_poor_households
    from {{ ref('fct_poverty_indicators') }}

),

deprived_counts as (

    select
        review_year,
        standard_code,
        indicator_code,
        commune_code,
        count(*) filter (where classification = 'poor') as poor_deprived_households,
        coalesce(sum(member_count) filter (where classification = 'poor'), 0)
            as poor_deprived_members,
        count(*) filter (where classification = 'near_poor') as near_poor_deprived_households
    from deprived_households
    group by
        review_year,
        standard_code,
        indicator_code,
        commune_code

),

commune_rows as (

    select
        indicator_facts.*,
        indicators.indicator_code as indicator_code,
        coalesce(deprived_counts.poor_deprived_households, 0) as poor_deprived_households,
        coalesce(deprived_counts.poor_deprived_members, 0) as poor_deprived_members,
        coalesce(deprived_counts.near_poor_deprived_households, 0)
            as near_poor_deprived_households
    from indicator_facts
    inner join indicators
        on indicator_facts.standard_code = indicators.standard_code
    left join deprived_counts
        on
            indicator_facts.commune_code = deprived_counts.commune_code
            and indicator_facts.review_year = deprived_counts.review_year
            and indicator_facts.standard_code = deprived_counts.standard_code
            and indicators.indicator_code = deprived_counts.indicator_code

),

area_rows as (

    {{ rollup_to_named_areas(
        'commune_rows',
        group_by=['review_year', 'standard_code', 'is_official_standard', 'indicator_code'],
        sums=[
            'total_households', 'total_members', 'poor_households', 'poor_members',
            'near_poor_households', 'poor_deprived_households', 'poor_deprived_members',
            'near_poor_deprived_households',
        ],
    ) }}

),

weighted as (

    select
        area_rows.*,
        indicators.dimension_code as dimension_code,
        indicators.label_vi as indicator_label_vi,
        indicators.label_en as indicator_label_en,
        weights.relative_weight as relative_weight,
        sum(weights.relative_weight) over (
            partition by area_rows.area_level, area_rows.area_code, area_rows.review_year,
            area_rows.standard_code
        ) as total_relative_weight,
        weights.relative_weight * area_rows.poor_deprived_households
            as poor_weighted_deprivations,
        weights.relative_weight * area_rows.poor_deprived_members
            as poor_member_weighted_deprivations
    from area_rows
    inner join indicators
        on
            area_rows.standard_code = indicators.standard_code
            and area_rows.indicator_code = indicators.indicator_code
    inner join weights
        on
            area_rows.standard_code = weights.standard_code
            and area_rows.indicator_code = weights.indicator_code

),

final as (

    select
        {{ area_columns() }},
        review_year,
        standard_code,
        is_official_standard,
        indicator_code,
        dimension_code,
        indicator_label_vi,
        indicator_label_en,
        communes_reporting,
        relative_weight,
        total_relative_weight,
        trim_scale(relative_weight::numeric / total_relative_weight) as indicator_weight,
        total_households,
        total_members,
        poor_households,
        poor_members,
        near_poor_households,
        poor_deprived_households,
        poor_deprived_members,
        near_poor_deprived_households,
        poor_weighted_deprivations,
        poor_member_weighted_deprivations,
        trim_scale(poor_deprived_households::numeric / nullif(poor_households, 0))
            as poor_deprivation_share,
        trim_scale(poor_deprived_households::numeric / nullif(total_households, 0))
            as censored_headcount_ratio,
        trim_scale(poor_deprived_members::numeric / nullif(total_members, 0))
            as censored_headcount_ratio_persons,
        trim_scale(
            poor_weighted_deprivations::numeric
            / nullif(sum(poor_weighted_deprivations) over area_standard, 0)
        ) as contribution_to_adjusted_headcount,
        trim_scale(
            poor_member_weighted_deprivations::numeric
            / nullif(sum(poor_member_weighted_deprivations) over area_standard, 0)
        ) as contribution_to_adjusted_headcount_persons
    from weighted
    window area_standard as (partition by area_level, area_code, review_year, standard_code)

)

select * from final
