-- The review summary's continuity between years, one row per area × review year × standard ×
-- block (the quality gate expects found = expected): the households poor at the start of t
-- plus those of a territory without a review of t (not reviewed) are the households poor at
-- the end of t−1 on the same territory, at every level —
--   poor_start(t) + poor_not_reviewed(t) = poor_end(t−1)
--   near_poor_start(t) + near_poor_not_reviewed(t) = near_poor_end(t−1)
-- The territory of an area of t is found independently of the flows: each commune row of t−1
-- is taken to the unit holding its territory on t's review date (int_commune_code_periods),
-- and that unit to its district, province and today's unit (dim_commune). Area type total
-- only (a household counts in the area type of its record, which may change between years).

with

summary as (

    select
        area_level,
        area_code,
        review_year,
        standard_code,
        poor_start + poor_not_reviewed as poor_carried,
        near_poor_start + near_poor_not_reviewed as near_poor_carried,
        poor_end,
        near_poor_end
    from {{ ref('rpt_review_summary') }}
    where area_type = 'total'

),

review_years as (

    select distinct review_year from summary

),

-- each commune row of t−1 on the units of t
previous_communes as (

    select
        previous.area_code as previous_commune_code,
        previous.review_year + 1 as review_year,
        previous.standard_code,
        previous.poor_end,
        previous.near_poor_end,
        coalesce(holder.commune_code, previous.area_code) as commune_code,
        communes.district_code,
        communes.province_code,
        communes.current_commune_code
    from summary as previous
    inner join review_years
        on previous.review_year + 1 = review_years.review_year
    left join {{ ref('int_commune_code_periods') }} as holder
        on
            previous.area_code = holder.submitted_code
            and {{ within_period(review_date('previous.review_year + 1'), 'holder.period_from', 'holder.period_to') }}
    left join {{ ref('dim_commune') }} as communes
        on
            coalesce(holder.commune_code, previous.area_code) = communes.commune_code
            and {{ within_period(review_date('previous.review_year + 1'), 'communes.valid_from', 'communes.valid_to') }}
    where previous.area_level = 'commune'

),

expected as (

    {%- for level, key in [
        ('commune', 'commune_code'), ('district', 'district_code'),
        ('province', 'province_code'), ('current_commune', 'current_commune_code'),
    ] %}
    {{ 'union all' if not loop.first }}
    select
        '{{ level }}'::text as area_level,
        {{ key }} as area_code,
        review_year,
        standard_code,
        sum(poor_end) as poor_end,
        sum(near_poor_end) as near_poor_end
    from previous_communes
    where {{ key }} is not null
    group by {{ key }}, review_year, standard_code
    {%- endfor %}

),

compared as (

    select
        coalesce(summary.area_level, expected.area_level) as area_level,
        coalesce(summary.area_code, expected.area_code) as area_code,
        coalesce(summary.review_year, expected.review_year) as review_year,
        coalesce(summary.standard_code, expected.standard_code) as standard_code,
        coalesce(summary.poor_carried, 0) as poor_carried,
        coalesce(summary.near_poor_carried, 0) as near_poor_carried,
        coalesce(expected.poor_end, 0) as previous_poor_end,
        coalesce(expected.near_poor_end, 0) as previous_near_poor_end
    from summary
    full outer join expected
        on
            summary.area_level = expected.area_level
            and summary.area_code = expected.area_code
            and summary.review_year = expected.review_year
            and summary.standard_code = expected.standard_code

),

final as (

    select
        'rpt_review_summary'::text as mart,
        compared.area_level,
        compared.area_code,
        compared.review_year,
        compared.standard_code,
        'area_type=total; end of the year before on the same territory'::text as detail,
        identities.measure,
        identities.found,
        identities.expected
    from compared
    cross join lateral (
        values
            ('poor_start + poor_not_reviewed', compared.poor_carried::numeric,
             compared.previous_poor_end::numeric),
            ('near_poor_start + near_poor_not_reviewed', compared.near_poor_carried::numeric,
             compared.previous_near_poor_end::numeric)
    ) as identities (measure, found, expected)

)

select * from final
