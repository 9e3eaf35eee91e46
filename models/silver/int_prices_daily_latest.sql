{{ config(materialized='ephemeral') }}

{#- One row per (ticker, trade_date): the latest passing delivery. -#}
with

passing as (
    select * from {{ ref('int_prices_daily_checked') }}
    where size(failed_rule_ids) = 0
),

ranked as (
    select
        *,
        -- Latest delivery wins; within one delivery, the last line wins.
        row_number() over (
            partition by ticker, trade_date
            order by ingested_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from passing
),

final as (
    select * from ranked
    where delivery_rank = 1
)

select * from final
