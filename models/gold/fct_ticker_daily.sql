with

prices as (
    select * from {{ ref('prices_daily') }}
),

with_previous as (
    select
        ticker,
        trade_date,
        close,
        volume,
        lag(close) over (
            partition by ticker order by trade_date
        ) as previous_close
    from prices
),

final as (
    select
        ticker,
        trade_date,
        close,
        volume,
        close / previous_close - 1 as return_1d
    from with_previous
)

select * from final
