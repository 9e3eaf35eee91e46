with

sessions as (
    select * from {{ ref('stg_bronze__trading_sessions') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by exchange, session_date
            order by ingested_at desc, batch_id desc
        ) as delivery_rank
    from sessions
),

final as (
    select
        exchange,
        cast(session_date as date) as session_date,
        cast(open_at as timestamp) as open_at,
        cast(close_at as timestamp) as close_at,
        coalesce(is_half_day = 'true', false) as is_half_day
    from ranked
    where delivery_rank = 1
)

select * from final
