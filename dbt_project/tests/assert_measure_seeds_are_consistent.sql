-- The seeds of the poverty measures fit the rest: every indicator of ref_poverty_indicators
-- has exactly one weight in ref_poverty_indicator_weights (and no weight is for an unknown
-- indicator or not positive), every standard a target names exists, and every column
-- ref_household_characteristics names is a column of the staged household list (a typo would
-- otherwise match nothing). One test for all, so the build DAG runs one task for it.

with

indicators as (

    select standard_code, indicator_code from {{ ref('ref_poverty_indicators') }}

),

weights as (

    select standard_code, indicator_code, relative_weight
    from {{ ref('ref_poverty_indicator_weights') }}

),

household_columns as (

    {{ column_names(ref('stg_commune_reviews__households')) }}

),

problems as (

    {#- each side's rows that the other lacks -#}
    {%- for failure, side, other in [
        ('indicator without a weight', 'indicators', 'weights'),
        ('weight of an unknown indicator', 'weights', 'indicators'),
    ] %}
    select
        '{{ failure }}' as failure,
        {{ side }}.standard_code || '.' || {{ side }}.indicator_code as item
    from {{ side }}
    left join {{ other }}
        on
            {{ side }}.standard_code = {{ other }}.standard_code
            and {{ side }}.indicator_code = {{ other }}.indicator_code
    where {{ other }}.indicator_code is null

    union all
    {% endfor %}

    select
        'weight not positive' as failure,
        standard_code || '.' || indicator_code as item
    from weights
    where not relative_weight > 0

    union all

    select
        'target of an unknown standard' as failure,
        targets.target_code || ' → ' || targets.standard_code as item
    from {{ ref('ref_poverty_targets') }} as targets
    left join {{ ref('ref_poverty_standards') }} as standards
        on targets.standard_code = standards.standard_code
    where targets.standard_code is not null and standards.standard_code is null

    union all

    select
        'characteristic column not in the household list' as failure,
        characteristics.characteristic_type || '.' || characteristics.characteristic_code
        || ' → ' || characteristics.household_column as item
    from {{ ref('ref_household_characteristics') }} as characteristics
    left join household_columns
        on characteristics.household_column = household_columns.column_name
    where household_columns.column_name is null

)

select * from problems
