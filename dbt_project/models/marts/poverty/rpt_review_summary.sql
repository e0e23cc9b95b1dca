-- The review report's summary table (bảng tổng hợp kết quả rà soát hộ nghèo, hộ cận nghèo):
-- per area (commune, district, province, today's commune), review year, standard and area type
-- (thanh_thi, nong_thon, total): resident households; poor at the start of the year, the flows,
-- the poor of the year before whose territory was not reviewed, poor at the end of the year and
-- the rate; the same block for near-poor. Flows come from int_household_flows (definitions
-- there). A commune is a unit of the review date: every unit with a review of the year, and
-- every unit holding households of the year before whose territory was not reviewed (a row
-- with communes_reporting 0). District and province rows are sums over their communes and
-- rates are recomputed from the summed counts.

{#- the flow counts of a row (flow_counts defines them), in the order of the report -#}
{%- set flow_columns = [
    'poor_start', 'poor_escaped_to_near_poor', 'poor_escaped_to_neither', 'near_poor_to_poor',
    'newly_poor', 're_poor', 'poor_left_review', 'poor_to_unclassifiable', 'poor_not_compared',
    'poor_not_reviewed', 'poor_end',
    'near_poor_start', 'near_poor_escaped', 'newly_near_poor', 're_near_poor',
    'near_poor_left_review', 'near_poor_to_unclassifiable', 'near_poor_not_compared',
    'near_poor_not_reviewed', 'near_poor_end',
] %}
{#- a commune row's keys, but for its area type -#}
{%- set commune_keys = [
    'commune_code', 'district_code', 'province_code', 'current_commune_code', 'review_year',
    'standard_code', 'is_official_standard',
] %}

with

unit_reviews as (

    select
        commune_code,
        review_year,
        district_code,
        province_code,
        current_commune_code
    from {{ ref('int_unit_reviews') }}

),

flows as (

    select
        commune_code,
        review_year,
        standard_code,
        area_type,
        previous_state,
        current_state,
        poverty_flow,
        near_poverty_flow
    from {{ ref('int_household_flows') }}

),

units as (

    select
        commune_code,
        review_year
    from unit_reviews

    union

    select distinct
        commune_code,
        review_year
    from flows

),

-- each unit with its district, province and today's unit on the review date (also a unit
-- that sent no review: its households of the year before were not reviewed)
commune_units as (

    select
        units.commune_code as commune_code,
        units.review_year as review_year,
        coalesce(unit_reviews.district_code, communes.district_code) as district_code,
        coalesce(unit_reviews.province_code, communes.province_code) as province_code,
        coalesce(unit_reviews.current_commune_code, communes.current_commune_code)
            as current_commune_code,
        (unit_reviews.commune_code is not null)::integer as communes_reporting,
        coalesce(compared_reviews.has_previous_review, false)::integer as communes_compared
    from units
    left join unit_reviews
        on
            units.commune_code = unit_reviews.commune_code
            and units.review_year = unit_reviews.review_year
    left join {{ ref('dim_commune') }} as communes
        on
            units.commune_code = communes.commune_code
            and {{ within_period(review_date('units.review_year'), 'communes.valid_from', 'communes.valid_to') }}
    left join {{ ref('int_commune_reviews_compared') }} as compared_reviews
        on
            units.commune_code = compared_reviews.commune_code
            and units.review_year = compared_reviews.review_year

),

standards as (

    select
        standard_code,
        first_review_year,
        last_review_year
    from {{ ref('dim_poverty_standard') }}

),

area_totals as (

    select
        commune_code,
        review_year,
        area_type,
        total_households
    from {{ ref('int_unit_area_totals') }}

),

area_types as (

    -- the two areas of the contract (khu_vuc); their lines differ
    select area_type
    from (values ('thanh_thi'), ('nong_thon')) as contract_areas (area_type)

),

flow_counts as (

    select
        commune_code,
        review_year,
        standard_code,
        area_type,
        count(*) filter (where previous_state = 'poor' and current_state <> 'not_reviewed')
            as poor_start,
        count(*) filter (where poverty_flow = 'escaped_to_near_poor') as poor_escaped_to_near_poor,
        count(*) filter (where poverty_flow = 'escaped_to_neither') as poor_escaped_to_neither,
        count(*) filter (where poverty_flow = 'near_poor_to_poor') as near_poor_to_poor,
        count(*) filter (where poverty_flow = 'newly_poor') as newly_poor,
        count(*) filter (where poverty_flow = 're_poor') as re_poor,
        count(*) filter (where poverty_flow = 'poor_left_review') as poor_left_review,
        count(*) filter (where poverty_flow = 'poor_to_unclassifiable') as poor_to_unclassifiable,
        count(*) filter (where poverty_flow = 'poor_not_compared') as poor_not_compared,
        count(*) filter (where poverty_flow = 'poor_not_reviewed') as poor_not_reviewed,
        count(*) filter (where current_state = 'poor') as poor_end,
        count(*) filter (where previous_state = 'near_poor' and current_state <> 'not_reviewed')
            as near_poor_start,
        count(*) filter (where near_poverty_flow = 'escaped_near_poverty') as near_poor_escaped,
        count(*) filter (where near_poverty_flow = 'newly_near_poor') as newly_near_poor,
        count(*) filter (where near_poverty_flow = 're_near_poor') as re_near_poor,
        count(*) filter (where near_poverty_flow = 'near_poor_left_review')
            as near_poor_left_review,
        count(*) filter (where near_poverty_flow = 'near_poor_to_unclassifiable')
            as near_poor_to_unclassifiable,
        count(*) filter (where near_poverty_flow = 'near_poor_not_compared')
            as near_poor_not_compared,
        count(*) filter (where near_poverty_flow = 'near_poor_not_reviewed')
            as near_poor_not_reviewed,
        count(*) filter (where current_state = 'near_poor') as near_poor_end
    from flows
    group by
        commune_code,
        review_year,
        standard_code,
        area_type

),

commune_area_rows as (

    select
        commune_units.commune_code as commune_code,
        commune_units.district_code as district_code,
        commune_units.province_code as province_code,
        commune_units.current_commune_code as current_commune_code,
        commune_units.review_year as review_year,
        standards.standard_code as standard_code,
        {{ is_official_standard('commune_units.review_year') }} as is_official_standard,
        area_types.area_type as area_type,
        commune_units.communes_reporting as communes_reporting,
        commune_units.communes_compared as communes_compared,
        area_totals.total_households as total_households
        {%- for column in flow_columns %},
        coalesce(flow_counts.{{ column }}, 0) as {{ column }}
        {%- endfor %}
    from commune_units
    cross join standards
    cross join area_types
    left join area_totals
        on
            commune_units.commune_code = area_totals.commune_code
            and commune_units.review_year = area_totals.review_year
            and area_types.area_type = area_totals.area_type
    left join flow_counts
        on
            commune_units.commune_code = flow_counts.commune_code
            and commune_units.review_year = flow_counts.review_year
            and standards.standard_code = flow_counts.standard_code
            and area_types.area_type = flow_counts.area_type

),

commune_rows as (

    select * from commune_area_rows

    union all

    select
        {%- for key in commune_keys %}
        {{ key }},
        {%- endfor %}
        'total' as area_type,
        max(communes_reporting) as communes_reporting,
        max(communes_compared) as communes_compared,
        sum(total_households) as total_households
        {%- for column in flow_columns %},
        sum({{ column }}) as {{ column }}
        {%- endfor %}
    from commune_area_rows
    group by
        {%- for key in commune_keys %}
        {{ key }}{{ ',' if not loop.last }}
        {%- endfor %}

),

area_rows as (

    {{ rollup_to_named_areas(
        'commune_rows',
        group_by=['review_year', 'standard_code', 'is_official_standard', 'area_type'],
        sums=['communes_compared', 'total_households'] + flow_columns,
        reporting='communes_reporting = 1',
    ) }}

),

final as (

    select
        {{ area_columns('area_rows') }},
        area_rows.review_year as review_year,
        area_rows.standard_code as standard_code,
        area_rows.is_official_standard as is_official_standard,
        area_rows.area_type as area_type,
        area_rows.communes_reporting as communes_reporting,
        area_rows.communes_compared as communes_compared,
        area_rows.total_households as total_households,
        area_rows.poor_start as poor_start,
        area_rows.poor_escaped_to_near_poor + area_rows.poor_escaped_to_neither as poor_escaped,
        area_rows.poor_escaped_to_near_poor as poor_escaped_to_near_poor,
        area_rows.poor_escaped_to_neither as poor_escaped_to_neither,
        area_rows.near_poor_to_poor as near_poor_to_poor,
        area_rows.newly_poor as newly_poor,
        area_rows.re_poor as re_poor,
        area_rows.poor_left_review as poor_left_review,
        area_rows.poor_to_unclassifiable as poor_to_unclassifiable,
        area_rows.poor_not_compared as poor_not_compared,
        area_rows.poor_not_reviewed as poor_not_reviewed,
        area_rows.poor_end as poor_end,
        trim_scale(area_rows.poor_end::numeric / nullif(area_rows.total_households, 0))
            as poor_rate,
        area_rows.near_poor_start as near_poor_start,
        area_rows.near_poor_escaped as near_poor_escaped,
        area_rows.newly_near_poor as newly_near_poor,
        area_rows.re_near_poor as re_near_poor,
        area_rows.near_poor_left_review as near_poor_left_review,
        area_rows.near_poor_to_unclassifiable as near_poor_to_unclassifiable,
        area_rows.near_poor_not_compared as near_poor_not_compared,
        area_rows.near_poor_not_reviewed as near_poor_not_reviewed,
        area_rows.near_poor_end as near_poor_end,
        trim_scale(area_rows.near_poor_end::numeric / nullif(area_rows.total_households, 0))
            as near_poor_rate
    from area_rows

)

select * from final
