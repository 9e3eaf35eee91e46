with

bars as (
    select * from {{ ref('stg_bronze__prices_daily') }}
),

typed as (
    select
        source,
        batch_id,
        ingested_at,
        cast(trade_date as date) as trade_date,
        cast(open as double) as open,
        cast(high as double) as high,
        cast(low as double) as low,
        cast(close as double) as close,
        cast(volume as bigint) as volume,
        upper(trim(ticker)) as ticker
    from bars
),

ranked as (
    select
        *,
        -- Latest delivery wins; batch_id breaks ties deterministically.
        row_number() over (
            partition by ticker, trade_date
            order by ingested_at desc, batch_id desc
        ) as delivery_rank
    from typed
),

final as (
    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        source,
        batch_id,
        ingested_at
    from ranked
    where delivery_rank = 1
)

select * from final
