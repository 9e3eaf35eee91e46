{#- Calendar deliveries beside their batch's delivery time. -#}
with

sessions as (
    select * from {{ source('bronze', 'trading_sessions') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        sessions.exchange,
        sessions.session_date,
        sessions.open_at,
        sessions.close_at,
        sessions.is_half_day,
        sessions.batch_id,
        batches.ingested_at
    from sessions
    inner join batches
        on sessions.batch_id = batches.batch_id
)

select * from final
