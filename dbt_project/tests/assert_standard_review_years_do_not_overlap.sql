-- At most one standard officially governs a review year (ref_poverty_standards
-- first_review_year–last_review_year), so is_official_standard picks one figure per year.

select
    earlier.standard_code as standard_code,
    later.standard_code as overlapping_standard_code
from {{ ref('ref_poverty_standards') }} as earlier
inner join {{ ref('ref_poverty_standards') }} as later
    on
        earlier.standard_code < later.standard_code
        and earlier.first_review_year <= later.last_review_year
        and later.first_review_year <= earlier.last_review_year
