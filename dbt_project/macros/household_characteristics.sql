{#- The household columns ref_household_characteristics names (head_gender, poverty_cause_codes
    …), read from the seed when the model runs: seeds are loaded before the models, so the
    profiles mart reads exactly the columns its rules test. A unit test overrides it with the
    columns of its own seed rows. -#}
{% macro characteristic_columns() %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set found = run_query(
        "select distinct household_column from " ~ ref('ref_household_characteristics')
        ~ " order by household_column"
    ) -%}
    {{ return(found.columns[0].values() | list) }}
{% endmacro %}
