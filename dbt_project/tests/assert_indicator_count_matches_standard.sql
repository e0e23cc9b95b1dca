-- Each standard in ref_poverty_standards has as many indicators in ref_poverty_indicators as
-- its indicator_count says (QĐ59 10, NĐ07 12, NĐ351 12). Returns the standards that do not.

with

indicator_counts as (

    select
        standard_code,
        count(*) as indicators_in_seed
    from {{ ref('ref_poverty_indicators') }}
    group by standard_code

)

select
    standards.standard_code,
    standards.indicator_count,
    coalesce(indicator_counts.indicators_in_seed, 0) as indicators_in_seed
from {{ ref('ref_poverty_standards') }} as standards
left join indicator_counts
    on standards.standard_code = indicator_counts.standard_code
where standards.indicator_count <> coalesce(indicator_counts.indicators_in_seed, 0)
