{{ config(partition_by=['detected_month']) }}

{#-
    Every value a later delivery replaced, for bars that passed their rules: a log,
    appended and never replaced, partitioned by the month the replacing delivery landed.
    A build finds the restatements of `log_batches` (the batches no published version has
    read) and rewrites only the months they land in, copying those months' published rows
    unchanged. Each of their keys is compared with its earlier delivery: with a rebuild
    window, the one the published version read (mp_read_deliveries), as those batches all
    landed earlier; otherwise every earlier delivery of the key is read.
-#}
{%- set columns = [
    'ticker', 'trade_date', 'column_name', 'old_value', 'new_value', 'old_batch_id',
    'new_batch_id', 'detected_at', 'detected_month',
] -%}
{%- set appends = mp_log_batches() is not none %}

with

-- With a window, only its bars: it starts at the earliest unread bar's month
-- (marketpulse/incremental.py), so every unread bar is among them.
compared as (
    {{ mp_price_deliveries(this) }}
),

{%- if appends %}

-- Only a key a new batch delivers can be restated by it.
new_keys as (
    select distinct
        ticker,
        trade_date
    from compared
    where {{ mp_in_log_batches('batch_id') }}
),
{%- endif %}

-- A key repeated inside one delivery is a duplicate: its last line stands for
-- the delivery, as in prices_daily.
ranked_lines as (
    select
        compared.*,
        row_number() over (
            partition by compared.ticker, compared.trade_date, compared.batch_id
            order by compared.line_number desc
        ) as line_rank
    from compared
    {%- if appends %}
    left semi join new_keys
        on
            compared.ticker = new_keys.ticker
            and compared.trade_date = new_keys.trade_date
    {%- endif %}
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

restated as (
    select
        ticker,
        trade_date,
        column_name,
        old_value,
        new_value,
        old_batch_id,
        new_batch_id,
        detected_at,
        {{ mp_trade_month('detected_at') }} as detected_month
    from changes
    where
        not (old_value <=> new_value)
        and {{ mp_in_log_batches('new_batch_id') }}
),

final as (
    {{ mp_log('restated', columns, 'detected_month') }}
)

select * from final
