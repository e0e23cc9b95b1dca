-- Who the poor and near-poor households are and why (Plan 24-KH/TU, task NV6): per area,
-- review year and standard, the poor and near-poor households (as the standard classifies
-- them) with each characteristic of ref_household_characteristics — special groups (person
-- of merit, social-protection beneficiary, no labour capacity, female head, ethnic-minority
-- head), each cause of poverty and each support wished, as the commune recorded them. The
-- seed names the household column and the match rule, so a new group is a seed row.

-- Grouping by hash, not by sorting: the planner takes the joined households (rows of a view)
-- for a thousand rows where there are hundreds of thousands, and would sort two million
-- household × column values to count them (7.5 s against 5 s at scale 1).
-- Added to the marts' own pre-hook (work_mem, jit), local to this model's transaction.
{{ config(pre_hook="set local enable_sort = off") }}

with

current_reviews as (

    select
        submission_id,
        commune_code,
        review_year
    from {{ ref('int_commune_reviews_current') }}

),

households as (

    select * from {{ ref('stg_commune_reviews__households') }}

),

-- the row each classified household counts from (its key read here, not hashed again by the
-- staged view)
counted_rows as (

    select
        household_key,
        review_year,
        submission_id,
        household_row_number
    from {{ ref('int_review_households') }}
    where is_counted

),

classified as (

    select
        household_key,
        review_year,
        standard_code,
        submission_id,
        commune_code,
        member_count,
        classification
    from {{ ref('int_households_classified') }}
    where classification in ('poor', 'near_poor')

),

characteristics as (

    select
        characteristic_type,
        characteristic_code,
        label_vi,
        label_en,
        sort_order,
        household_column,
        match_rule,
        match_value
    from {{ ref('ref_household_characteristics') }}

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
        poor_households as all_poor_households,
        near_poor_households as all_near_poor_households,
        poor_members as all_poor_members,
        near_poor_members as all_near_poor_members
    from {{ ref('fct_poverty_indicators') }}

),

-- each poor or near-poor household under each standard, with its values of the columns the
-- seed names (read as text; a blank is '')
{%- set columns = characteristic_columns() %}
profile_households as (

    select
        classified.review_year as review_year,
        classified.standard_code as standard_code,
        classified.commune_code as commune_code,
        {%- for column in columns %}
        coalesce(households.{{ adapter.quote(column) }}::text, '') as {{ adapter.quote(column) }},
        {%- endfor %}
        classified.classification as classification,
        classified.member_count as member_count
    from classified
    inner join counted_rows
        on
            classified.household_key = counted_rows.household_key
            and classified.review_year = counted_rows.review_year
            and classified.submission_id = counted_rows.submission_id
    inner join households
        on
            counted_rows.submission_id = households.submission_id
            and counted_rows.household_row_number = households.household_row_number
    inner join current_reviews
        on households.submission_id = current_reviews.submission_id

),

-- per commune, year and standard, the poor and near-poor households (and their members) with
-- each value of each column: counted by value first, so each rule is then tested once per
-- distinct value (a few hundred), not once per household
value_counts as materialized (

    select
        profile_households.review_year as review_year,
        profile_households.standard_code as standard_code,
        profile_households.commune_code as commune_code,
        column_values.household_column as household_column,
        column_values.raw_value as raw_value,
        count(*) filter (where profile_households.classification = 'poor') as poor_households,
        count(*) filter (where profile_households.classification = 'near_poor')
            as near_poor_households,
        coalesce(
            sum(profile_households.member_count)
                filter (where profile_households.classification = 'poor'), 0
        ) as poor_members,
        coalesce(
            sum(profile_households.member_count)
                filter (where profile_households.classification = 'near_poor'), 0
        ) as near_poor_members
    from profile_households
    cross join lateral (
        values
        {%- for column in columns %}
            ('{{ column }}', profile_households.{{ adapter.quote(column) }}),
        {%- endfor %}
            -- ends the list, which is empty until the seed is loaded (dbt docs generate on an
            -- empty warehouse); left out below
            (null, null)
    ) as column_values (household_column, raw_value)
    where column_values.household_column is not null
    group by
        profile_households.review_year,
        profile_households.standard_code,
        profile_households.commune_code,
        column_values.household_column,
        column_values.raw_value

),

distinct_values as (

    select distinct
        household_column,
        raw_value
    from value_counts

),

-- each characteristic's rule applied once per distinct value of its column (materialized:
-- otherwise PostgreSQL joins the counts to the characteristics first and tests every rule on
-- every commune's values)
value_matches as materialized (

    select
        distinct_values.household_column as household_column,
        distinct_values.raw_value as raw_value,
        characteristics.characteristic_type as characteristic_type,
        characteristics.characteristic_code as characteristic_code
    from distinct_values
    inner join characteristics
        on distinct_values.household_column = characteristics.household_column
    where
        case characteristics.match_rule
            when 'equals' then
                lower(nullif(trim(distinct_values.raw_value), ''))
                = lower(characteristics.match_value)
            when 'differs_from' then
                lower(nullif(trim(distinct_values.raw_value), ''))
                <> lower(characteristics.match_value)
            when 'list_contains' then
                lower(characteristics.match_value) = any(
                    string_to_array(
                        lower(replace(nullif(trim(distinct_values.raw_value), ''), ' ', '')), ';'
                    )
                )
            when 'is_blank' then nullif(trim(distinct_values.raw_value), '') is null
        end

),

-- a characteristic reads one column, and a household has one value in it: the households of
-- the values it matches are the households it describes
characteristic_counts as (

    select
        value_counts.review_year as review_year,
        value_counts.standard_code as standard_code,
        value_counts.commune_code as commune_code,
        value_matches.characteristic_type as characteristic_type,
        value_matches.characteristic_code as characteristic_code,
        sum(value_counts.poor_households)::bigint as poor_households,
        sum(value_counts.near_poor_households)::bigint as near_poor_households,
        sum(value_counts.poor_members)::bigint as poor_members,
        sum(value_counts.near_poor_members)::bigint as near_poor_members
    from value_counts
    inner join value_matches
        on
            value_counts.household_column = value_matches.household_column
            and value_counts.raw_value = value_matches.raw_value
    group by
        value_counts.review_year,
        value_counts.standard_code,
        value_counts.commune_code,
        value_matches.characteristic_type,
        value_matches.characteristic_code

),

commune_rows as (

    select
        indicator_facts.*,
        characteristics.characteristic_type as characteristic_type,
        characteristics.characteristic_code as characteristic_code,
        coalesce(characteristic_counts.poor_households, 0) as poor_households,
        coalesce(characteristic_counts.near_poor_households, 0) as near_poor_households,
        coalesce(characteristic_counts.poor_members, 0) as poor_members,
        coalesce(characteristic_counts.near_poor_members, 0) as near_poor_members
    from indicator_facts
    cross join characteristics
    left join characteristic_counts
        on
            indicator_facts.commune_code = characteristic_counts.commune_code
            and indicator_facts.review_year = characteristic_counts.review_year
            and indicator_facts.standard_code = characteristic_counts.standard_code
            and characteristics.characteristic_type = characteristic_counts.characteristic_type
            and characteristics.characteristic_code = characteristic_counts.characteristic_code

),

area_rows as (

    {{ rollup_to_named_areas(
        'commune_rows',
        group_by=[
            'review_year', 'standard_code', 'is_official_standard', 'characteristic_type',
            'characteristic_code',
        ],
        sums=[
            'all_poor_households', 'all_near_poor_households', 'all_poor_members',
            'all_near_poor_members', 'poor_households', 'near_poor_households', 'poor_members',
            'near_poor_members',
        ],
    ) }}

),

final as (

    select
        {{ area_columns('area_rows') }},
        area_rows.review_year as review_year,
        area_rows.standard_code as standard_code,
        area_rows.is_official_standard as is_official_standard,
        area_rows.characteristic_type as characteristic_type,
        area_rows.characteristic_code as characteristic_code,
        characteristics.label_vi as characteristic_label_vi,
        characteristics.label_en as characteristic_label_en,
        characteristics.sort_order as sort_order,
        area_rows.communes_reporting as communes_reporting,
        area_rows.poor_households as poor_households,
        area_rows.near_poor_households as near_poor_households,
        area_rows.poor_members as poor_members,
        area_rows.near_poor_members as near_poor_members,
        area_rows.all_poor_households as all_poor_households,
        area_rows.all_near_poor_households as all_near_poor_households,
        area_rows.all_poor_members as all_poor_members,
        area_rows.all_near_poor_members as all_near_poor_members,
        trim_scale(area_rows.poor_households::numeric / nullif(area_rows.all_poor_households, 0))
            as share_of_poor_households,
        trim_scale(
            area_rows.near_poor_households::numeric
            / nullif(area_rows.all_near_poor_households, 0)
        ) as share_of_near_poor_households
    from area_rows
    inner join characteristics
        on
            area_rows.characteristic_type = characteristics.characteristic_type
            and area_rows.characteristic_code = characteristics.characteristic_code

)

select * from final
