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

{#- Households × indicators, long: every household row of `households` (household_key,
    review_year, commune_code, submission_id and the deprivation_flag_columns) crossed with the
    indicators of every standard, with the reported flag, its proxy, the flag assessed and where
    it came from. With `standard` (an expression), the indicators of that standard only, for the
    row `households` of an outer query (in a lateral join). Each flag is picked with a plain CASE
    on the seed's column name (no per-row JSON), so a new standard is a seed change. -#}
{% macro assessed_deprivations(households, standard=none) %}
    {%- set flag_columns = deprivation_flag_columns() -%}
    select
        household_key,
        review_year,
        standard_code,
        indicator_code,
        commune_code,
        submission_id,
        dimension_code,
        submission_flag_column,
        proxy_flag_column,
        reported_flag,
        proxy_flag,
        case
            when reported_flag is not null then reported_flag
            when proxy_flag is not null then proxy_flag
            when missing_counts_as_not_deprived then 0::smallint
        end as assessed_flag,
        case
            when reported_flag is not null then 'reported'
            when proxy_flag is not null then 'proxy'
            when missing_counts_as_not_deprived then 'missing_counts_as_not_deprived'
            else 'missing'
        end as flag_source
    from (
        select
            {{ households }}.household_key as household_key,
            {{ households }}.review_year as review_year,
            indicators.standard_code as standard_code,
            indicators.indicator_code as indicator_code,
            {{ households }}.commune_code as commune_code,
            {{ households }}.submission_id as submission_id,
            indicators.dimension_code as dimension_code,
            indicators.submission_flag_column as submission_flag_column,
            indicators.proxy_flag_column as proxy_flag_column,
            indicators.missing_counts_as_not_deprived as missing_counts_as_not_deprived,
            case indicators.submission_flag_column
                {%- for column in flag_columns %}
                when '{{ column }}' then {{ households }}.{{ column }}
                {%- endfor %}
            end::smallint as reported_flag,
            case indicators.proxy_flag_column
                {%- for column in flag_columns %}
                when '{{ column }}' then {{ households }}.{{ column }}
                {%- endfor %}
            end::smallint as proxy_flag
        {%- if standard is none %}
        from {{ households }}
        cross join {{ ref('ref_poverty_indicators') }} as indicators
        {%- else %}
        from {{ ref('ref_poverty_indicators') }} as indicators
        where indicators.standard_code = {{ standard }}
        {%- endif %}
    ) as flags
{% endmacro %}
