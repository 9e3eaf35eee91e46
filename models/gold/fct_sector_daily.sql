{#- Partitioned by month: fct_ticker_daily's audit build holds the rebuilt
    months. -#}
{{ config(partition_by=['trade_month']) }}

with

ticker_days as (
    select * from {{ ref('fct_ticker_daily') }}
),

instruments as (
    select * from {{ ref('dim_instruments') }}
),

by_sector as (
    select
        instruments.sector,
        ticker_days.trade_date,
        count(*) as tickers_present,
        count(ticker_days.return_1d) as tickers_with_return,
        avg(ticker_days.return_1d) as equal_weight_return,
        count_if(ticker_days.return_1d > 0) as advancers,
        count_if(ticker_days.return_1d < 0) as decliners,
        sum(ticker_days.volume) as total_volume
    from ticker_days
    inner join instruments
        on ticker_days.ticker = instruments.ticker
    group by instruments.sector, ticker_days.trade_date
),

final as (
    select
        sector,
        trade_date,
        tickers_present,
        equal_weight_return,
        advancers,
        decliners,
        total_volume,
        (advancers - decliners) / tickers_with_return as market_breadth,
        {{ mp_trade_month('trade_date') }} as trade_month
    from by_sector
)

select * from final
