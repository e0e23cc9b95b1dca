-- Every flag column the indicator seed names (own flag or proxy) is a deprivation flag column of
-- the staged household list (deprivation_flag_columns: its documented td* columns), so a typo in
-- the seed fails here instead of counting as "not collected".

with

named_columns as (

    select submission_flag_column as column_name from {{ ref('ref_poverty_indicators') }}
    union
    select proxy_flag_column as column_name from {{ ref('ref_poverty_indicators') }}
    where proxy_flag_column is not null

),

household_columns as (

    select column_name
    from ({{ column_names(ref('stg_commune_reviews__households')) }}) as staged
    where column_name in (
        {%- for column in deprivation_flag_columns() %}
        '{{ column }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

)

select named_columns.column_name
from named_columns
left join household_columns
    on named_columns.column_name = household_columns.column_name
where household_columns.column_name is null
