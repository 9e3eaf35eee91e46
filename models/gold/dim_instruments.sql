{#-
    Current attributes per ticker. A ticker seen only in prices is still listed, with
    sector `unknown` and its listing span taken from its first and last bar.
-#}
with

instruments as (
    select * from {{ ref('instruments') }}
),

prices as (
    select * from {{ ref('prices_daily') }}
),

bar_spans as (
    select
        ticker,
        min(trade_date) as first_bar_date,
        max(trade_date) as last_bar_date
    from prices
    group by ticker
),

final as (
    select
        bar_spans.first_bar_date,
        bar_spans.last_bar_date,
        coalesce(instruments.ticker, bar_spans.ticker) as ticker,
        coalesce(instruments.name, bar_spans.ticker) as name,
        coalesce(instruments.sector, 'unknown') as sector,
        coalesce(instruments.industry, 'unknown') as industry,
        coalesce(instruments.exchange, 'XNYS') as exchange,
        coalesce(instruments.listed_date, bar_spans.first_bar_date)
            as listed_date,
        case
            when instruments.ticker is null then bar_spans.last_bar_date
            else instruments.delisted_date
        end as delisted_date,
        instruments.ticker is null as is_inferred
    from instruments
    full outer join bar_spans
        on instruments.ticker = bar_spans.ticker
)

select * from final
