-- The biggest one-session moves of the latest session, up and down.
with

ticker_days as (
    select * from {{ ref('fct_ticker_daily') }}
),

instruments as (
    select * from {{ ref('dim_instruments') }}
),

latest_session as (
    select max(trade_date) as trade_date from ticker_days
),

ranked as (
    select
        ticker_days.ticker,
        instruments.name,
        instruments.sector,
        ticker_days.trade_date,
        ticker_days.adj_close,
        ticker_days.return_1d,
        ticker_days.volume_zscore_20,
        row_number() over (order by ticker_days.return_1d desc) as gain_rank,
        row_number() over (order by ticker_days.return_1d asc) as loss_rank
    from ticker_days
    inner join latest_session
        on ticker_days.trade_date = latest_session.trade_date
    inner join instruments
        on ticker_days.ticker = instruments.ticker
    where ticker_days.return_1d is not null
),

final as (
    select * from ranked
    where gain_rank <= 10 or loss_rank <= 10
)

select * from final
order by return_1d desc
