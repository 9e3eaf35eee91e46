{#- Bronze corporate actions beside their delivery time. -#}
with

delivered as (
    select * from {{ source('bronze', 'corporate_actions') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        delivered.line_number,
        delivered.ticker,
        delivered.ex_date,
        delivered.action_type,
        delivered.split_ratio,
        delivered.dividend_amount,
        delivered.source,
        delivered.batch_id,
        batches.ingested_at
    from delivered
    inner join batches
        on delivered.batch_id = batches.batch_id
)

select * from final
