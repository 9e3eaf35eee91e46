{{ config(partition_by=['trade_month']) }}

{#- Partitioned by month: a run rebuilds only the months from its rebuild
    window on. -#}
with

latest_delivered as (
    select * from {{ ref('int_prices_daily_latest') }}
),

held as (
    select * from {{ ref('held_prices') }}
),

splits as (
    select * from {{ ref('corporate_actions') }}
    where action_type = 'split'
),

latest as (
    select latest_delivered.* from latest_delivered
    left anti join held
        on
            latest_delivered.ticker = held.ticker
            and latest_delivered.trade_date = held.trade_date
    where {{ mp_in_rebuild_window('latest_delivered.trade_date') }}
),

last_sessions as (
    select
        ticker,
        max(trade_date) as last_trade_date
    from latest
    group by ticker
),

-- Backward cumulative split factor: a 2-for-1 split halves every earlier price.
-- Announced splits whose ex-date is still ahead do not adjust yet.
split_factors as (
    select
        latest.ticker,
        latest.trade_date,
        -- A product (not exp of a sum of logs) keeps 2-for-1 factors exact;
        -- sorting makes the float result independent of row order.
        aggregate(
            array_sort(collect_list(splits.split_ratio)),
            cast(1 as double),
            (factor, ratio) -> factor / ratio
        ) as adj_factor
    from latest
    inner join last_sessions
        on latest.ticker = last_sessions.ticker
    inner join splits
        on
            latest.ticker = splits.ticker
            and latest.trade_date < splits.ex_date
            and last_sessions.last_trade_date >= splits.ex_date
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
        latest.volume / coalesce(split_factors.adj_factor, 1.0) as adj_volume,
        {{ mp_trade_month('latest.trade_date') }} as trade_month
    from latest
    left join split_factors
        on
            latest.ticker = split_factors.ticker
            and latest.trade_date = split_factors.trade_date
)

select * from final
