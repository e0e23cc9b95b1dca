with

standards as (

    select * from {{ ref('ref_poverty_standards') }}

),

final as (

    select
        standard_code,
        standard_name_vi,
        standard_name_en,
        legal_source,
        first_review_year,
        last_review_year,
        first_list_year,
        last_list_year,
        rural_income_only_poverty_line,
        urban_income_only_poverty_line,
        rural_poverty_line,
        urban_poverty_line,
        deprivation_cutoff,
        indicator_count,
        dimension_count,
        is_confirmed
    from standards

)

select * from final
