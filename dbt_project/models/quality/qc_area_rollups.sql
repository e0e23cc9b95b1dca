-- Every area total beside the sum of its children, one row per area × child level × measure
-- (the quality gate expects found = expected). Children are the rows whose parent_area_code
-- is the area's code, counted per child level, so the check holds for any level a mart adds
-- (districts while they existed, today's communes under the province, …).

{%- set marts = [
    {
        'mart': 'rpt_poverty_indicators_by_area',
        'grain': ['review_year', 'standard_code'],
        'detail': "''",
        'measures': [
            'communes_reporting', 'submissions_reporting', 'total_households', 'total_members',
            'reviewed_households',
            'poor_households', 'near_poor_households', 'poor_members', 'near_poor_members',
            'households_classified_exact', 'households_classified_proxy',
            'households_unclassifiable',
        ],
    },
    {
        'mart': 'rpt_review_summary',
        'grain': ['review_year', 'standard_code', 'area_type'],
        'detail': "'area_type=' || parent.area_type",
        'measures': [
            'communes_reporting', 'communes_compared', 'total_households', 'poor_start',
            'poor_escaped', 'near_poor_to_poor', 'newly_poor', 're_poor', 'poor_left_review',
            'poor_to_unclassifiable', 'poor_not_compared', 'poor_not_reviewed', 'poor_end',
            'near_poor_start', 'near_poor_escaped', 'newly_near_poor', 're_near_poor',
            'near_poor_left_review', 'near_poor_to_unclassifiable', 'near_poor_not_compared',
            'near_poor_not_reviewed', 'near_poor_end',
        ],
    },
] %}

with

{% for spec in marts %}
{{ spec.mart }}__children as (

    select
        parent_area_code as area_code,
        area_level as child_level,
        {{ spec.grain | join(', ') }},
        {%- for measure in spec.measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref(spec.mart) }}
    where parent_area_code is not null
    group by parent_area_code, area_level, {{ spec.grain | join(', ') }}

),

{{ spec.mart }}__compared as (

    select
        '{{ spec.mart }}'::text as mart,
        parent.area_level,
        parent.area_code,
        parent.review_year,
        parent.standard_code,
        concat_ws('; ', nullif({{ spec.detail }}, ''), 'sum of ' || children.child_level || ' rows')
            as detail,
        measures.measure,
        measures.found,
        measures.expected
    from {{ ref(spec.mart) }} as parent
    inner join {{ spec.mart }}__children as children
        on
            parent.area_code = children.area_code
            and parent.area_level <> children.child_level
            {%- for column in spec.grain %}
            and parent.{{ column }} = children.{{ column }}
            {%- endfor %}
    cross join lateral (
        values
        {%- for measure in spec.measures %}
            ('{{ measure }}', parent.{{ measure }}::numeric, children.{{ measure }}::numeric)
            {{- ',' if not loop.last }}
        {%- endfor %}
    ) as measures (measure, found, expected)

),
{% endfor %}

final as (

    {% for spec in marts %}
    select * from {{ spec.mart }}__compared
    {{ 'union all' if not loop.last }}
    {% endfor %}

)

select * from final
