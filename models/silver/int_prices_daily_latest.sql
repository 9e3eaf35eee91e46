{{ config(materialized='ephemeral') }}

{#-
    One row per (ticker, trade_date): the latest passing delivery. A windowed build ranks
    only the unread batches' deliveries beside the ones the published version read (see
    mp_read_deliveries), so it does not read every delivered bar again.
-#}
{%- set columns = mp_delivery_columns() | join(', ') -%}
{%- set from_published = mp_reads_published_deliveries() %}

with

passing as (
    select {{ columns }} from {{ ref('int_prices_daily_checked') }}
    where size(failed_rule_ids) = 0
),
{%- if from_published %}

deliveries as (
    select * from passing
    where
        {{ mp_in_rebuild_window('trade_date') }}
        and {{ mp_in_log_batches('batch_id') }}
    union all
    {{ mp_read_deliveries(this) }}
),
{%- else %}

deliveries as (
    select * from passing
),
{%- endif %}

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
