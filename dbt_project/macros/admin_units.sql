{#- The first day the warehouse's unit history covers: the start of the 2016–2020 standard's
    period, before the earliest review year it holds. Units are taken as they were on 1 Jan
    2016 for any earlier day. -#}
{% macro records_start() %}date '{{ var("admin_records_start", "2016-01-01") }}'{% endmacro %}


{#- The day a review's units are taken at: the last day of its period (31 Dec for the annual
    review, the month's last day for a regular one). -#}
{% macro review_date(review_year, review_month='null') %}
    (make_date({{ review_year }}, coalesce({{ review_month }}, 12), 1)
        + interval '1 month' - interval '1 day')::date
{% endmacro %}
