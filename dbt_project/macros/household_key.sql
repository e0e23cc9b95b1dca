{#-
    The keyed hash that stands for a household outside raw: HMAC-SHA256 of
    '<commune code>:<household code>' under POVERTY_PII_KEY, in hex. The key's pads are read
    from pii.hmac_pads (owner-only, written by the warehouse set-up from the environment), so
    the key never appears in SQL; poverty_pipeline.warehouse.pii.household_key computes the same value.

    A household of a merged commune keeps its code prefixed by its former commune's code
    ("28531-HO00012"), so it is keyed by that commune and followed across the merger.

    Use in a model that selects `from ... cross join {{ hmac_pads() }}`.
-#}
{% macro household_key(commune_code, household_code) %}
    encode(
        sha256(
            hmac_pads.outer_pad || sha256(
                hmac_pads.inner_pad || convert_to(
                    case
                        when {{ household_code }} ~ '^[0-9]{5}-.'
                            then split_part({{ household_code }}, '-', 1) || ':'
                            || substr({{ household_code }}, 7)
                        else {{ commune_code }} || ':' || {{ household_code }}
                    end,
                    'UTF8'
                )
            )
        ),
        'hex'
    )
{% endmacro %}

{% macro hmac_pads() %}pii.hmac_pads as hmac_pads{% endmacro %}
