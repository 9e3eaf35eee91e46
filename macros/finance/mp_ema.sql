{#-
    Exponential moving average with pandas' `ewm(span, adjust=True)` weights over a row's
    last `window` rows: sum(d^k * x[t-k]) / sum(d^k) over k < window, d = 1 - 2 / (span + 1).

    It is computed with window sums instead of an array of `window` values per row (an
    array per row made the EMAs three quarters of fct_ticker_daily's time). A value is
    weighted towards an anchor row, d^(anchor - position) * x, and the row's sum is scaled
    back by d^(position - anchor). One anchor for all of history would overflow (d^-5000),
    so positions are cut into blocks of `window` rows, each anchored at its first row. A
    row's frame covers its own block and the one before, so each value carries two
    weights: towards the next even block's anchor and towards the next odd one's; a row
    sums the one of its own block's parity. Exponents stay within ±`window` (d^-400 is
    about 1e29 for span 12). Spark sums a bounded frame's rows afresh for every row (it
    never subtracts the row leaving the frame, which would cost precision at such
    magnitudes), so a frame's sum reads only its own rows: a windowed build gives the same
    bits as a full one when positions count from the ticker's first bar.

    Three parts, named after `name`: `mp_ema_weighted` (two columns per value row),
    `mp_ema_sums` (their frame sums, in a window over the rows in order) and `mp_ema`.
    `position` is the row's number in its series, from 1; `value` must not be null.
-#}
{% macro mp_ema_decay(span, window) -%}
    {%- set decay = 1 - 2 / (span + 1) -%}
    {#- d^-window must stay far inside a double (1e308): ln(1/d) * window < 600, where
        ln(1/d) = ln(1 + 2 / (span - 1)) < 2 / (span - 1). -#}
    {%- if span < 2 or window * 2 / (span - 1) > 600 -%}
        {{ exceptions.raise_compiler_error(
            "mp_ema: span " ~ span ~ " with a window of " ~ window
            ~ " rows would overflow its weights; use a span >= 2 and a shorter window") }}
    {%- endif -%}
    {{ return(decay) }}
{%- endmacro %}

{#- The row's block: positions 1 to `window` are block 0. -#}
{% macro mp_ema_block(position, window) -%}
    (({{ position }} - 1) div {{ window }})
{%- endmacro %}

{% macro mp_ema_weighted(name, value, position, span, window) -%}
    {%- set decay = mp_ema_decay(span, window) -%}
    {%- set block = mp_ema_block(position, window) -%}
    pow({{ decay }}, ({{ block }} + {{ block }} % 2) * {{ window }} + 1 - {{ position }})
    * {{ value }} as {{ name }}_even,
    pow({{ decay }}, ({{ block }} + 1 - {{ block }} % 2) * {{ window }} + 1 - {{ position }})
    * {{ value }} as {{ name }}_odd
{%- endmacro %}

{% macro mp_ema_sums(name, window, partition_by, order_by) -%}
    {%- for parity in ['even', 'odd'] %}
    sum({{ name }}_{{ parity }}) over (
        partition by {{ partition_by }} order by {{ order_by }}
        rows between {{ window - 1 }} preceding and current row
    ) as {{ name }}_{{ parity }}_sum{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- 1 - d is rendered as computed here, in binary floating point: Spark would take
    `1 - <literal>` in decimal, and the first EMA would then differ from its value. -#}
{% macro mp_ema(name, position, span, window) -%}
    {%- set decay = mp_ema_decay(span, window) -%}
    {%- set block = mp_ema_block(position, window) -%}
    pow({{ decay }}, {{ position }} - ({{ block }} * {{ window }} + 1))
    * (case when {{ block }} % 2 = 0 then {{ name }}_even_sum else {{ name }}_odd_sum end)
    / ((1 - pow({{ decay }}, least({{ position }}, {{ window }}))) / {{ 1 - decay }})
{%- endmacro %}
