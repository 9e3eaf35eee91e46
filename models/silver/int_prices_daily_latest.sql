{{ config(materialized='ephemeral') }}

{#-
    One row per (ticker, trade_date): the latest passing delivery. A windowed build ranks
    only the unread batches' deliveries beside the ones the published version read (see
    mp_read_deliveries), so it does not read every delivered bar again.
-#}
{%- set columns = mp_delivery_columns() | join(', ') %}

with

deliveries as (
    {{ mp_price_deliveries(this) }}
),

ranked as (
    select
        *,
        -- Latest delivery wins; within one delivery, the last line wins.
        row_number() over (
            partition by ticker, trade_date
            order by ingested_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from deliveries
),

final as (
    select {{ columns }} from ranked
    where delivery_rank = 1
)

select * from final
