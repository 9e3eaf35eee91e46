{#-
    Sentiment beside what followed: one row per (ticker, session) with the session's
    news sentiment, the next session's return, and their rolling 63-session correlation
    (sessions without news are skipped by the correlation).
-#}
with

ticker_days as (
    -- Every month: this model is rebuilt whole.
    select * from {{ mp_whole('fct_ticker_daily') }}
),

sentiment as (
    select * from {{ mp_whole('fct_ticker_sentiment_daily') }}
),

joined as (
    select
        ticker_days.ticker,
        ticker_days.trade_date,
        sentiment.article_count,
        sentiment.mean_score,
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
        *,
        corr(mean_score, next_return_1d) over (
            partition by ticker order by trade_date
            rows between 62 preceding and current row
        ) as sentiment_return_corr_63
    from joined
)

select * from final
