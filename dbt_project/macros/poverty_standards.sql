{#- The standard of `standards` is the official one in `review_year`: the year falls in its
    review years (first_review_year–last_review_year, which do not overlap between standards:
    assert_standard_review_years_do_not_overlap), so one figure per year is official. -#}
{% macro is_official_standard(review_year, standards='standards') -%}
    {{ review_year }} between {{ standards }}.first_review_year and {{ standards }}.last_review_year
{%- endmacro %}
