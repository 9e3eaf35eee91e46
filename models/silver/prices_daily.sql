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

-- Each ticker's splits as one array: a bar's factor is computed from its row,
-- so `latest` (the latest-delivery ranking, recomputed per reference) is read
-- once.
ticker_splits as (
    select
        ticker,
        collect_list(struct(ex_date, split_ratio)) as splits
    from splits
    group by ticker
),

with_last_session as (
    select
        *,
        max(trade_date) over (partition by ticker) as last_trade_date
    from latest
),

-- Backward cumulative split factor: a 2-for-1 split halves every earlier price.
-- Announced splits whose ex-date is still ahead do not adjust yet.
split_factors as (
    select
        with_last_session.*,
        -- A product (not exp of a sum of logs) keeps 2-for-1 factors exact;
        -- sorting makes the float result independent of row order.
        aggregate(
            array_sort(
                transform(
                    filter(
                        ticker_splits.splits,
                        action -> with_last_session.trade_date < action.ex_date
                        and with_last_session.last_trade_date >= action.ex_date
                    ),
                    action -> action.split_ratio
                )
            ),
            cast(1 as double),
            (factor, ratio) -> factor / ratio
        ) as adj_factor
    from with_last_session
    left join ticker_splits
        on with_last_session.ticker = ticker_splits.ticker
),

final as (
    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        adj_close as vendor_adj_close,
        source,
        batch_id,
        line_number,
        ingested_at,
        coalesce(adj_factor, 1.0) as adj_factor,
        open * coalesce(adj_factor, 1.0) as adj_open,
        high * coalesce(adj_factor, 1.0) as adj_high,
        low * coalesce(adj_factor, 1.0) as adj_low,
        close * coalesce(adj_factor, 1.0) as adj_close,
        volume / coalesce(adj_factor, 1.0) as adj_volume,
        {{ mp_trade_month('trade_date') }} as trade_month
    from split_factors
)

select * from final
