with

passing as (
    select * from {{ ref('int_corporate_actions_checked') }}
    where size(failed_rule_ids) = 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by ticker, ex_date, action_type
            order by ingested_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from passing
),

final as (
    select
        ticker,
        ex_date,
        action_type,
        source,
        batch_id,
        ingested_at,
        case when action_type = 'split' then split_ratio end as split_ratio,
        case
            when action_type = 'dividend' then dividend_amount
        end as dividend_amount
    from ranked
    where delivery_rank = 1
)

select * from final
