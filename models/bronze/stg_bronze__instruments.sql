{#- Bronze instruments beside their delivery time. -#}
with

delivered as (
    select * from {{ source('bronze', 'instruments') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        delivered.line_number,
        delivered.ticker,
        delivered.name,
        delivered.sector,
        delivered.industry,
        delivered.exchange,
        delivered.listed_date,
        delivered.delisted_date,
        delivered.source,
        delivered.batch_id,
        batches.ingested_at
    from delivered
    inner join batches
        on delivered.batch_id = batches.batch_id
)

select * from final
