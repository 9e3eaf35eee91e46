with

passing as (
    select * from {{ ref('int_prices_daily_checked') }}
    where size(failed_rule_ids) = 0
),

splits as (
    select * from {{ ref('corporate_actions') }}
    where action_type = 'split'
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

latest as (
    select * from ranked
    where delivery_rank = 1
),

-- Backward cumulative split factor: a 2-for-1 split halves every earlier price.
split_factors as (
    select
        latest.ticker,
        latest.trade_date,
        exp(-sum(ln(splits.split_ratio))) as adj_factor
    from latest
    inner join splits
        on
            latest.ticker = splits.ticker
            and latest.trade_date < splits.ex_date
    group by latest.ticker, latest.trade_date
),

final as (
    select
        latest.ticker,
        latest.trade_date,
        latest.open,
        latest.high,
        latest.low,
        latest.close,
        latest.volume,
        latest.adj_close as vendor_adj_close,
        latest.source,
        latest.batch_id,
        latest.line_number,
        latest.ingested_at,
        coalesce(split_factors.adj_factor, 1.0) as adj_factor,
        latest.open * coalesce(split_factors.adj_factor, 1.0) as adj_open,
        latest.high * coalesce(split_factors.adj_factor, 1.0) as adj_high,
        latest.low * coalesce(split_factors.adj_factor, 1.0) as adj_low,
        latest.close * coalesce(split_factors.adj_factor, 1.0) as adj_close,
        latest.volume / coalesce(split_factors.adj_factor, 1.0) as adj_volume
    from latest
    left join split_factors
        on
            latest.ticker = split_factors.ticker
            and latest.trade_date = split_factors.trade_date
)

select * from final
