with

passing as (
    select * from {{ ref('int_instruments_checked') }}
    where size(failed_rule_ids) = 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by ticker
            order by ingested_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from passing
),

final as (
    select
        ticker,
        name,
        sector,
        industry,
        exchange,
        listed_date,
        delisted_date,
        source,
        batch_id,
        ingested_at
    from ranked
    where delivery_rank = 1
)

select * from final
