{#-
    Incremental rebuilds of the household-level models (int_review_households,
    int_households_classified, int_household_flows).

    Each of them records, in intermediate.household_builds, the current review of every commune
    and year it was last built from, and a fingerprint of what else decides its rows (the SQL of
    the household models, the standards, the indicators, the administrative units, the key's
    pads). On the next run it rebuilds only what changed since:
      - the households (household_key × review_year) listed in a review that became current or
        stopped being current — a new commune file, or a correction superseding one;
      - for the flows, every year of those households, and the whole years t and t+1 of a
        commune-year reviewed for the first time (whether a unit's review can be compared with
        the year before, and whether a household gone from the lists was reviewed, depend on
        which communes sent a review);
    and everything when the fingerprint differs. The state is written in the model's own
    transaction, so a failed build leaves the previous state and the next run rebuilds what
    changed since the last one that finished. `dbt build --full-refresh` rebuilds all.
-#}

{% macro household_builds() %}{{ this.schema }}.household_builds{% endmacro %}

{% macro create_household_builds() %}
    create table if not exists {{ household_builds() }} (
        model_name text not null,
        commune_code text not null,
        review_year integer not null,
        submission_id text not null,
        rules_fingerprint text not null
    )
{% endmacro %}

{#- What the household models' rows depend on besides the reviews themselves. -#}
{% macro household_rules_fingerprint() %}
    {%- set chain = [
        'stg_commune_reviews__households', 'int_commune_reviews_current',
        'int_review_households', 'int_household_deprivations', 'int_households_classified',
        'int_household_flows',
    ] -%}
    {%- set checksums = [] -%}
    {%- for node in (graph.nodes.values() if execute else []) if node.resource_type == 'model' and node.name in chain -%}
        {%- do checksums.append(node.name ~ ':' ~ node.checksum.checksum) -%}
    {%- endfor -%}
    {%- set rules = [
        ref('int_commune_code_periods'), ref('ref_poverty_standards'),
        ref('ref_poverty_indicators'), 'pii.hmac_pads',
    ] -%}
    md5(concat_ws(
        '|',
        '{{ checksums | sort | join(",") }}'
        {%- for relation in rules %},
        (select md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from {{ relation }} as r)
        {%- endfor %}
    ))
{% endmacro %}

{#- True when this run rebuilds part of the model: it exists, is not fully refreshed, and was
    last built under the same fingerprint. -#}
{% macro household_rebuild_is_partial() %}
    {%- if not (execute and is_incremental()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- do run_query(create_household_builds()) -%}
    {%- set same = run_query(
        "select exists (select 1 from " ~ household_builds() ~ " where model_name = '"
        ~ this.identifier ~ "' and rules_fingerprint = " ~ household_rules_fingerprint() ~ ")"
    ).columns[0].values()[0] -%}
    {{ return(same) }}
{% endmacro %}

{#- Pre-hook: what this run rebuilds, in temporary tables of the model's transaction (analysed, so
    the model's joins are planned on their real size), and the rows it replaces removed (the
    model's insert puts them back):
      household_rebuild_reviews  commune-years whose current review differs from the one the
                                 model was last built from: current_submission_id (null: none
                                 now), built_submission_id (null: first review)
      household_rebuild          the households (key × review year) listed in either
      household_rebuild_years    the review years t and t+1 of a commune-year reviewed for the
                                 first time (or no longer): the flows' whole years
      household_rebuild_rows     with keep_rows: the rows removed (submission_id,
                                 household_row_number), for int_review_households to rank again
    Everything is removed when the fingerprint changed. -#}
{% macro prepare_household_rebuild(flows=false, keep_rows=false) %}
    {%- if not (execute and is_incremental()) -%}
        select 1
    {%- elif not household_rebuild_is_partial() -%}
        delete from {{ this }}
    {%- else -%}
        create temporary table household_rebuild_reviews on commit drop as
        select
            coalesce(current_reviews.commune_code, built.commune_code) as commune_code,
            coalesce(current_reviews.review_year, built.review_year) as review_year,
            current_reviews.submission_id as current_submission_id,
            built.submission_id as built_submission_id
        from {{ ref('int_commune_reviews_current') }} as current_reviews
        full join (
            select commune_code, review_year, submission_id
            from {{ household_builds() }}
            where model_name = '{{ this.identifier }}'
        ) as built
            on
                current_reviews.commune_code = built.commune_code
                and current_reviews.review_year = built.review_year
        where current_reviews.submission_id is distinct from built.submission_id;

        create temporary table household_rebuild on commit drop as
        select distinct household_key, review_year
        from {{ ref('stg_commune_reviews__households') }}
        where submission_id = any(array(
            select current_submission_id from household_rebuild_reviews
            union
            select built_submission_id from household_rebuild_reviews
        ));
        analyze household_rebuild;

        create temporary table household_rebuild_years on commit drop as
        select distinct review_year + shift as review_year
        from household_rebuild_reviews
        cross join (values (0), (1)) as shifts (shift)
        where current_submission_id is null or built_submission_id is null;

        {% if keep_rows -%}
        create temporary table household_rebuild_rows (
            submission_id text, household_row_number integer
        ) on commit drop;
        with removed as (
            delete from {{ this }} where {{ household_rebuild_condition() }}
            returning submission_id, household_row_number
        )
        insert into household_rebuild_rows select * from removed;
        analyze household_rebuild_rows
        {%- else -%}
        delete from {{ this }} where {{ household_rebuild_condition(flows) }}
        {%- endif %}
    {%- endif -%}
{% endmacro %}

{#- The rows (household_key, review_year) a partial run rebuilds: those of household_rebuild;
    for the flows, every year of those households and the whole household_rebuild_years. -#}
{% macro household_rebuild_condition(flows=false) %}
    {%- if flows -%}
        (
            household_key in (select household_key from household_rebuild)
            or review_year in (select review_year from household_rebuild_years)
        )
    {%- else -%}
        (household_key, review_year) in (select household_key, review_year from household_rebuild)
    {%- endif -%}
{% endmacro %}

{#- The condition on a model's rows that this run rebuilds: `true` when it rebuilds all. -#}
{% macro in_household_rebuild() %}
    {{- household_rebuild_condition() if household_rebuild_is_partial() else 'true' -}}
{% endmacro %}

{% macro in_flow_rebuild() %}
    {{- household_rebuild_condition(flows=true) if household_rebuild_is_partial() else 'true' -}}
{% endmacro %}

{#- Post-hook: what the model now reflects. -#}
{% macro record_household_build() %}
    {{ create_household_builds() }};
    delete from {{ household_builds() }} where model_name = '{{ this.identifier }}';
    insert into {{ household_builds() }}
    select
        '{{ this.identifier }}',
        commune_code,
        review_year,
        submission_id,
        {{ household_rules_fingerprint() }}
    from {{ ref('int_commune_reviews_current') }}
{% endmacro %}
