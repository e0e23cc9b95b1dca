-- Every flag column the indicator seed names (own flag or proxy) is a column of the staged
-- household list, so a typo in the seed fails here instead of counting as "not collected".

with

named_columns as (

    select submission_flag_column as column_name from {{ ref('ref_poverty_indicators') }}
    union
    select proxy_flag_column as column_name from {{ ref('ref_poverty_indicators') }}
    where proxy_flag_column is not null

),

household_columns as (

    {{ column_names(ref('stg_commune_reviews__households')) }}

)

select named_columns.column_name
from named_columns
left join household_columns
    on named_columns.column_name = household_columns.column_name
where household_columns.column_name is null
