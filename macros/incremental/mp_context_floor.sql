{#-
    The earliest month (yyyy-MM) holding one of the last `bars` bars before `from_month`
    of a ticker with a bar from `from_month` on (`from_month` when there is none): reading
    from it gives those tickers' rolling windows their full context. Tickers without a bar
    from `from_month` on are left out, so a ticker delisted years ago does not pull the
    floor back to its last bars.

    It first counts only the months a ticker trading every session needs (about 15 bars a
    month, counted low), so the cost does not grow with history. That answer stands when
    every such ticker has `bars` bars there or no bar before them (`bar_spans`: ticker and
    first_bar_date for every ticker with bars, e.g. dim_instruments); a ticker halted for
    long sends it to count every month.
-#}
{% macro mp_context_floor(prices, from_month, bars, bar_spans) -%}
    {%- if not execute -%}
        {{ return(from_month) }}  {#- parsing: no query runs -#}
    {%- endif -%}
    {%- set from_index = (from_month[:4] | int) * 12 + (from_month[5:7] | int) - 1 -%}
    {%- set probe_index = from_index - (bars / 15) | round(0, 'ceil') | int - 1 -%}
    {%- set probe_month = "%04d-%02d" | format(probe_index // 12, probe_index % 12 + 1) -%}
    {%- set floor = run_query(mp_context_floor_query(
        prices, from_month, bars, bar_spans, probe_month)).columns[0].values()[0] -%}
    {%- if floor is none -%}
        {%- set floor = run_query(mp_context_floor_query(
            prices, from_month, bars)).columns[0].values()[0] -%}
    {%- endif -%}
    {{ return(floor) }}
{%- endmacro %}

{#-
    The floor counted from `lowest_month` on (every month without it), or null when a
    ticker may have bars it needs before that month. It counts bars per ticker and month
    and sums them from the latest month back: a month holds one of the last `bars` bars
    when fewer than `bars` come after it (an aggregate, not a sort of every bar).
-#}
{% macro mp_context_floor_query(prices, from_month, bars, bar_spans=none, lowest_month=none) -%}
    with

    month_bars as (
        select
            ticker,
            trade_month,
            count(*) as month_bars
        from {{ prices }}
        where
            trade_month < '{{ from_month }}'
            {%- if lowest_month is not none %}
            and trade_month >= '{{ lowest_month }}'
            {%- endif %}
        group by ticker, trade_month
    ),

    counted as (
        select
            ticker,
            trade_month,
            month_bars,
            sum(month_bars) over (
                partition by ticker order by trade_month desc
            ) - month_bars as later_bars
        from month_bars
    ),

    ticker_floors as (
        select
            ticker,
            min(case when later_bars < {{ bars }} then trade_month end) as floor_month,
            sum(month_bars) as counted_bars
        from counted
        group by ticker
    ),

    active as (
        select distinct ticker from {{ prices }}
        where trade_month >= '{{ from_month }}'
    )

    select
        case
            {%- if lowest_month is none %}
            when true
            {%- else %}
            when count_if(
                coalesce(ticker_floors.counted_bars, 0) < {{ bars }}
                and not coalesce(
                    spans.first_bar_date >= date'{{ lowest_month }}-01', false
                )
            ) = 0
            {%- endif %}
                then coalesce(min(ticker_floors.floor_month), '{{ from_month }}')
        end as context_floor
    from active
    left join ticker_floors
        on active.ticker = ticker_floors.ticker
    {%- if lowest_month is not none %}
    left join {{ bar_spans }} as spans
        on active.ticker = spans.ticker
    {%- endif %}
{%- endmacro %}
