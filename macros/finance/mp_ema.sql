{#-
    Exponential moving average of an ordered array (oldest first), with pandas'
    `ewm(span=span, adjust=True)` weights: sum((1-a)^i * x[-1-i]) / sum((1-a)^i),
    a = 2 / (span + 1).
-#}
{% macro mp_ema(values_array, span) -%}
    {%- set decay = 1 - 2 / (span + 1) -%}
    aggregate(
        {{ values_array }},
        named_struct('weighted', cast(0 as double), 'weights', cast(0 as double)),
        (acc, x) -> named_struct(
            'weighted', acc.weighted * {{ decay }} + x,
            'weights', acc.weights * {{ decay }} + 1
        ),
        acc -> acc.weighted / acc.weights
    )
{%- endmacro %}
