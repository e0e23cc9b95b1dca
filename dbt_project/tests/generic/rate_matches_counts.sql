{#-
    A rate column equals its numerator over its denominator (both SQL expressions over the
    model's columns), is null exactly when the denominator is null or 0, and lies in 0–1.
    Official rates are fractions of all resident households. Returns the offending rows whole
    (their keys name the area, year and standard) with what is wrong, in Vietnamese and English.
-#}
{% test rate_matches_counts(model, column_name, numerator, denominator, tolerance=1e-12) %}

with
rates as (
    select
        *,
        {{ column_name }} as rate,
        ({{ numerator }})::numeric as rate_numerator,
        ({{ denominator }})::numeric as rate_denominator
    from {{ model }}
)

select
    *,
    case
        when rate_denominator is null or rate_denominator = 0
            then 'Tỷ lệ phải để trống khi mẫu số bằng 0 hoặc trống. / '
                || 'The rate must be null when the denominator is 0 or null.'
        when rate is null
            then 'Tỷ lệ để trống nhưng mẫu số khác 0. / The rate is null but the denominator is not 0.'
        when rate < 0 or rate > 1 then 'Tỷ lệ nằm ngoài khoảng 0–1. / The rate lies outside 0–1.'
        else 'Tỷ lệ khác số đếm chia mẫu số. / The rate differs from its count over its denominator.'
    end as failure
from rates
where
    case
        when rate_denominator is null or rate_denominator = 0 then rate is not null
        when rate is null then true
        else
            rate < 0
            or rate > 1
            or abs(rate - rate_numerator / rate_denominator) > {{ tolerance }}
    end

{% endtest %}
