{#- Delivered lines that could not be read into their contract, per batch. -#}
with

rejected as (
    select * from {{ source('bronze', 'rejected_records') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        rejected.dataset,
        rejected.source,
        rejected.batch_id,
        rejected.rule_id,
        rejected.reason,
        rejected.raw_record,
        batches.ingested_at,
        cast(rejected.line_number as bigint) as line_number
    from rejected
    inner join batches
        on rejected.batch_id = batches.batch_id
)

select * from final
