{#- The deprivation flag columns of the staged household list (its documented td* columns), which
    the indicator seed's submission_flag_column and proxy_flag_column name
    (tests/assert_indicator_flag_columns_exist.sql). Read from the project, not the database, so
    unit tests compile it too; [] while dbt parses. -#}
{% macro deprivation_flag_columns() %}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- set staging = graph.nodes.get('model.' ~ project_name ~ '.stg_commune_reviews__households', {}) -%}
        {%- for name in staging.get('columns', {}) if name.startswith('td') -%}
            {%- do columns.append(name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns | sort) }}
{% endmacro %}

{#- The deprivation flags of the household row `households` (or of the row in scope) in one
    smallint array, in the order of deprivation_flag_columns(): a flag is then read by its
    position, not by a CASE over the column names for every household and indicator. -#}
{% macro deprivation_flag_array(households=none) -%}
    array[
        {%- for column in deprivation_flag_columns() %}
        {{ households ~ '.' if households }}{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ]::smallint[]
{%- endmacro %}

{#- The indicator seed, each indicator with the positions of its own flag and of its proxy in
    deprivation_flag_array (null when the seed names no such column: that flag reads as blank). -#}
{% macro indicator_flag_positions() %}
    select
        indicators.standard_code as standard_code,
        indicators.indicator_code as indicator_code,
        indicators.dimension_code as dimension_code,
        indicators.submission_flag_column as submission_flag_column,
        indicators.proxy_flag_column as proxy_flag_column,
        indicators.missing_counts_as_not_deprived as missing_counts_as_not_deprived,
        array_position(flag_columns.names, indicators.submission_flag_column::text)
            as submission_flag_position,
        array_position(flag_columns.names, indicators.proxy_flag_column::text)
            as proxy_flag_position
    from {{ ref('ref_poverty_indicators') }} as indicators
    cross join (
        select
            array[
                {%- for column in deprivation_flag_columns() %}
                '{{ column }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ]::text[] as names
    ) as flag_columns
{% endmacro %}

{#- The flag counted for one indicator: the reported flag, else its proxy, else 0 when the
    indicator's blanks count as not deprived, else null (missing). -#}
{% macro assessed_flag(reported, proxy, missing_counts_as_not_deprived) -%}
    coalesce({{ reported }}, {{ proxy }}, case when {{ missing_counts_as_not_deprived }} then 0::smallint end)
{%- endmacro %}

{#- Where assessed_flag came from: reported, proxy, missing_counts_as_not_deprived or missing. -#}
{% macro flag_source(reported, proxy, missing_counts_as_not_deprived) -%}
    case
        when {{ reported }} is not null then 'reported'
        when {{ proxy }} is not null then 'proxy'
        when {{ missing_counts_as_not_deprived }} then 'missing_counts_as_not_deprived'
        else 'missing'
    end
{%- endmacro %}
