{#- Every value a later delivery replaced, for bars that passed their rules. -#}
with

passing as (
    select * from {{ ref('int_prices_daily_checked') }}
    where size(failed_rule_ids) = 0
),

-- A key repeated inside one delivery is a duplicate: its last line stands for
-- the delivery, as in prices_daily.
ranked_lines as (
    select
        *,
        row_number() over (
            partition by ticker, trade_date, batch_id
            order by line_number desc
        ) as line_rank
    from passing
),

delivered as (
    select * from ranked_lines
    where line_rank = 1
),

sequenced as (
    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        batch_id,
        ingested_at,
        lag(open) over delivery as previous_open,
        lag(high) over delivery as previous_high,
        lag(low) over delivery as previous_low,
        lag(close) over delivery as previous_close,
        lag(adj_close) over delivery as previous_adj_close,
        lag(volume) over delivery as previous_volume,
        lag(batch_id) over delivery as previous_batch_id
    from delivered
    window delivery as (
        partition by ticker, trade_date
        order by ingested_at asc, batch_id asc, line_number asc
    )
),

changes as (
    select
        ticker,
        trade_date,
        previous_batch_id as old_batch_id,
        batch_id as new_batch_id,
        ingested_at as detected_at,
        stack(
            6,
            'open', cast(previous_open as string), cast(open as string),
            'high', cast(previous_high as string), cast(high as string),
            'low', cast(previous_low as string), cast(low as string),
            'close', cast(previous_close as string), cast(close as string),
            'adj_close', cast(previous_adj_close as string),
            cast(adj_close as string),
            'volume', cast(previous_volume as string), cast(volume as string)
        ) as (column_name, old_value, new_value)
    from sequenced
    where previous_batch_id is not null
),

final as (
    select
        ticker,
        trade_date,
        column_name,
        old_value,
        new_value,
        old_batch_id,
        new_batch_id,
        detected_at
    from changes
    where not (old_value <=> new_value)
)

select * from final
