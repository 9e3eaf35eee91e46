{#-
    Per-ticker daily facts on split-adjusted prices. Windows count sessions a ticker
    traded (rows), not calendar days. EMAs are pandas' `ewm(span, adjust=True)` over the
    last 400 sessions: older weights are below 1e-13 of the newest, far inside 1e-9
    (window sums, see mp_ema).

    Partitioned by month. A run with a rebuild window recomputes only the months from it
    on; each ticker's last 400 bars before the window (the longest window) are read as
    context, and the running peak and session number before the window are the published
    ones of its last bar there (rows before the window are settled), so the rebuilt rows
    equal a full rebuild's without reading all of history.
-#}
{{ config(partition_by=['trade_month']) }}
-- depends_on: {{ ref('dim_instruments') }}
{%- set ema_window = 400 -%}
{%- set rebuild_from = mp_rebuild_from() -%}
{#- The oldest month any ticker's context reaches, as a literal: Spark prunes
    the older partitions. -#}
{%- set context_floor = '0000-00' -%}
{%- if rebuild_from is not none -%}
    {%- set published = mp_published(
        this, required=['running_peak_close', 'session_number']) -%}
    {%- if execute -%}
        {%- set context_floor = mp_context_floor(
            ref('prices_daily'), rebuild_from[:7], ema_window, ref('dim_instruments')) -%}
    {%- endif -%}
{%- endif %}

with

all_prices as (
    select * from {{ ref('prices_daily') }}
),

{% if rebuild_from is none -%}
prices as (
    select
        *,
        cast(null as double) as prior_peak_close,
        cast(0 as bigint) as sessions_before
    from all_prices
),
{%- else -%}
{#- Every ticker's last bars before the window lie from the floor month on. -#}
bars_before_window as (
    select
        ticker,
        trade_date,
        row_number() over (partition by ticker order by trade_date desc) as bars_back
    from all_prices
    where
        trade_month >= '{{ context_floor }}'
        and not {{ mp_in_rebuild_window('trade_date') }}
),

context_starts as (
    select
        ticker,
        min(trade_date) as context_start,
        count(*) as context_bars
    from bars_before_window
    where bars_back <= {{ ema_window }}
    group by ticker
),

{#- The running peak and the session number never fall: their largest values are
    the ones of the last bar. -#}
published_before as (
    select
        ticker,
        max(running_peak_close) as prior_peak_close,
        max(session_number) as prior_sessions
    from {{ published }}
    where
        trade_month >= '{{ context_floor }}'
        and not {{ mp_in_rebuild_window('trade_date') }}
    group by ticker
),

{#- Sessions numbered from the ticker's first bar, as in a full build: the context
    starts after the published sessions before it. -#}
prices as (
    select
        all_prices.*,
        published_before.prior_peak_close,
        case
            when context_starts.ticker is null then cast(0 as bigint)
            when published_before.prior_sessions >= context_starts.context_bars
                then published_before.prior_sessions - context_starts.context_bars
            else raise_error(concat(
                'fct_ticker_daily: the published version holds fewer bars of ',
                all_prices.ticker, ' before the rebuild window than silver: rebuild with ',
                '`marketpulse build --full-refresh`'
            ))
        end as sessions_before
    from all_prices
    left join context_starts
        on all_prices.ticker = context_starts.ticker
    left join published_before
        on all_prices.ticker = published_before.ticker
    where
        all_prices.trade_month >= '{{ context_floor }}'
        and all_prices.trade_date
        >= coalesce(context_starts.context_start, date'{{ rebuild_from }}')
),
{%- endif %}

sequenced as (
    select
        ticker,
        trade_date,
        close,
        volume,
        adj_close,
        adj_high,
        adj_low,
        adj_volume,
        prior_peak_close,
        lag(adj_close, 1) over by_session as adj_close_1_back,
        lag(adj_close, 5) over by_session as adj_close_5_back,
        lag(adj_close, 21) over by_session as adj_close_21_back,
        row_number() over by_session + sessions_before as session_number
    from prices
    window by_session as (partition by ticker order by trade_date asc)
),

with_returns as (
    select
        *,
        adj_close / adj_close_1_back - 1 as return_1d,
        adj_close / adj_close_5_back - 1 as return_5d,
        adj_close / adj_close_21_back - 1 as return_21d,
        ln(adj_close / adj_close_1_back) as log_return_1d,
        {{ mp_ema_weighted(
            'ema_12', 'adj_close', 'session_number', 12, ema_window
        ) }},
        {{ mp_ema_weighted(
            'ema_26', 'adj_close', 'session_number', 26, ema_window
        ) }}
    from sequenced
),

windowed as (
    select
        *,
        avg(adj_close) over (
            partition by ticker order by trade_date
            rows between 19 preceding and current row
        ) as sma_20_raw,
        avg(adj_close) over (
            partition by ticker order by trade_date
            rows between 49 preceding and current row
        ) as sma_50_raw,
        avg(adj_close) over (
            partition by ticker order by trade_date
            rows between 199 preceding and current row
        ) as sma_200_raw,
        {{- mp_ema_sums('ema_12', ema_window, 'ticker', 'trade_date') }},
        {{- mp_ema_sums('ema_26', ema_window, 'ticker', 'trade_date') }},
        stddev_samp(log_return_1d) over (
            partition by ticker order by trade_date
            rows between 20 preceding and current row
        ) as log_return_stddev_21,
        count(log_return_1d) over (
            partition by ticker order by trade_date
            rows between 20 preceding and current row
        ) as log_returns_in_21,
        max(adj_close) over (
            partition by ticker order by trade_date
            rows between unbounded preceding and current row
        ) as peak_close_read,
        max(adj_high) over (
            partition by ticker order by trade_date
            rows between 251 preceding and current row
        ) as high_52w,
        min(adj_low) over (
            partition by ticker order by trade_date
            rows between 251 preceding and current row
        ) as low_52w,
        max(adj_high) over (
            partition by ticker order by trade_date
            rows between 251 preceding and 1 preceding
        ) as prior_high_52w,
        min(adj_low) over (
            partition by ticker order by trade_date
            rows between 251 preceding and 1 preceding
        ) as prior_low_52w,
        avg(adj_volume) over (
            partition by ticker order by trade_date
            rows between 20 preceding and 1 preceding
        ) as volume_mean_20,
        stddev_samp(adj_volume) over (
            partition by ticker order by trade_date
            rows between 20 preceding and 1 preceding
        ) as volume_stddev_20
    from with_returns
),

with_peak as (
    select
        *,
        greatest(
            peak_close_read, coalesce(prior_peak_close, 0)
        ) as running_peak_close
    from windowed
),

final as (
    select
        ticker,
        trade_date,
        session_number,
        close,
        volume,
        adj_close,
        adj_volume,
        return_1d,
        return_5d,
        return_21d,
        log_return_1d,
        high_52w,
        low_52w,
        case when session_number >= 20 then sma_20_raw end as sma_20,
        case when session_number >= 50 then sma_50_raw end as sma_50,
        case when session_number >= 200 then sma_200_raw end as sma_200,
        {{ mp_ema('ema_12', 'session_number', 12, ema_window) }} as ema_12,
        {{ mp_ema('ema_26', 'session_number', 26, ema_window) }} as ema_26,
        case
            when log_returns_in_21 = 21 then log_return_stddev_21 * sqrt(252)
        end as volatility_21d_annualised,
        running_peak_close,
        adj_close / running_peak_close - 1 as drawdown,
        coalesce(adj_high > prior_high_52w, false) as is_new_52w_high,
        coalesce(adj_low < prior_low_52w, false) as is_new_52w_low,
        case
            when session_number > 20 and volume_stddev_20 > 0
                then (adj_volume - volume_mean_20) / volume_stddev_20
        end as volume_zscore_20,
        {{ mp_trade_month('trade_date') }} as trade_month
    from with_peak
    where {{ mp_in_rebuild_window('trade_date') }}
)

select * from final
