{#- Bronze bars beside their batch's delivery time; silver types them. -#}
with

bars as (
    select * from {{ source('bronze', 'prices_daily') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        bars.line_number,
        bars.ticker,
        bars.trade_date,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.adj_close,
        bars.volume,
        bars.source,
        bars.batch_id,
        batches.ingested_at
    from bars
    inner join batches
        on bars.batch_id = batches.batch_id
)

select * from final
