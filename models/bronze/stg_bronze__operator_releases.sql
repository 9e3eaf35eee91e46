{#- Operator releases beside their delivery time. -#}
with

releases as (
    select * from {{ source('bronze', 'operator_releases') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        releases.reason,
        releases.released_by,
        releases.batch_id,
        batches.ingested_at,
        cast(trim(releases.trade_date) as date) as trade_date,
        upper(trim(releases.ticker)) as ticker,
        lower(trim(releases.rule_id)) as rule_id
    from releases
    inner join batches
        on releases.batch_id = batches.batch_id
)

select * from final
