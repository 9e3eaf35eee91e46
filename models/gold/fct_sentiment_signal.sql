{#-
    Sentiment beside what followed: one row per (ticker, session) with the session's
    news sentiment, the next session's return, and their rolling 63-session correlation
    (sessions without news are skipped by the correlation).

    Partitioned by month. A row depends on the next bar's return, so a run with a rebuild
    window also rewrites the month of each ticker's last bar before the window (for the
    tickers with bars in it); 62 earlier bars per ticker are read as the correlation's
    context, so the rewritten rows equal a full rebuild's.
-#}
{{ config(partition_by=['trade_month']) }}
-- depends_on: {{ ref('prices_daily') }}
-- depends_on: {{ ref('dim_instruments') }}
{%- set rebuild_from = mp_rebuild_from() -%}
{#- As literals, so that Spark prunes the older partitions. -#}
{%- set rewrite_month, context_floor = '0000-00', '0000-00' -%}
{%- if rebuild_from is not none and execute -%}
    {#- The month of the earliest last bar before the window, then its context. -#}
    {%- set rewrite_month = mp_context_floor(
        ref('prices_daily'), rebuild_from[:7], 1, ref('dim_instruments')) -%}
    {%- set context_floor = mp_context_floor(
        ref('prices_daily'), rewrite_month, 62, ref('dim_instruments')) -%}
{%- endif %}

with

ticker_days as (
    select * from {{ mp_whole('fct_ticker_daily') }}
    where trade_month >= '{{ context_floor }}'
),

sentiment as (
    select * from {{ mp_whole('fct_ticker_sentiment_daily') }}
    where trade_month >= '{{ context_floor }}'
),

joined as (
    select
        ticker_days.ticker,
        ticker_days.trade_date,
        sentiment.article_count,
        sentiment.mean_score,
        ticker_days.trade_month,
        lead(ticker_days.return_1d) over (
            partition by ticker_days.ticker order by ticker_days.trade_date
        ) as next_return_1d
    from ticker_days
    left join sentiment
        on
            ticker_days.ticker = sentiment.ticker
            and ticker_days.trade_date = sentiment.trade_date
),

final as (
    select
        ticker,
        trade_date,
        article_count,
        mean_score,
        next_return_1d,
        -- A partition column: Spark stores it last.
        trade_month,
        corr(mean_score, next_return_1d) over (
            partition by ticker order by trade_date
            rows between 62 preceding and current row
        ) as sentiment_return_corr_63
    from joined
)

select * from final
where trade_month >= '{{ rewrite_month }}'
