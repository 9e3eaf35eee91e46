{#-
    Bars held back from prices_daily, from the first session where prices and corporate
    actions disagree, until the disagreement is resolved or an operator releases it
    (`marketpulse release --rule ...`):
    - split_like_jump: a split-like close-to-close jump that no split explains. The
      vendor's own adjusted close is evidence: if it shows no jump, a corporate action is
      missing (held); if it shows the same jump, the move is real (reported by the gold
      gate, not held).
    - split_without_jump: a split whose ex-date shows no jump (the close ratio is nearer 1
      than the split's 1/ratio); adjusting by it would publish a move that never happened.
-#}
{%- set split_like = [2, 3, 4, 5, 10, 1.5] -%}
{%- set tolerance = 0.03 -%}
{%- set near_split_ratio = [] -%}
{%- for ratio in split_like -%}
    {%- do near_split_ratio.append(
        "abs(close_ratio - " ~ ratio ~ ") <= " ~ ratio * tolerance) -%}
    {%- do near_split_ratio.append(
        "abs(close_ratio - " ~ 1 / ratio ~ ") <= " ~ tolerance / ratio) -%}
{%- endfor -%}

{%- set hold_columns = [
    'ticker', 'trade_date', 'batch_id', 'line_number', 'jump_date', 'close_ratio',
    'vendor_adj_ratio', 'reason', 'rule_id',
] -%}
{#- The held delivery's values (the fields of `delivered`): what a later
    delivery of the bar is compared with (mp_read_deliveries). -#}
{%- set delivered_columns = [
    'open', 'high', 'low', 'close', 'vendor_adj_close', 'volume', 'source',
    'ingested_at',
] -%}
{%- set columns = hold_columns + delivered_columns -%}
{%- set held_columns = [] -%}
{%- for column in columns -%}
    {%- do held_columns.append(
        ('held.delivered.' if column in delivered_columns else 'held.') ~ column) -%}
{%- endfor -%}
{%- set rebuild_from = mp_rebuild_from() -%}

{#- One pass over every bar: `latest` is read once (a CTE read twice is
    computed twice), and each ticker's first unresolved jump is a window over
    the same partitioning.
    With a rebuild window only its bars are read. A jump before the window is
    settled: a delivery, release or split that could change one starts the
    window earlier or rebuilds every month (marketpulse/incremental.py). So the
    published holds before the window stand, a ticker held since then stays
    held, and each ticker's last published bar before the window (of a ticker
    not held) is the bar before its first one in it. -#}
with

window_bars as (
    select
        ticker,
        trade_date,
        batch_id,
        line_number,
        close,
        adj_close,
        false as is_context,
        struct(
            open,
            high,
            low,
            close,
            adj_close as vendor_adj_close,
            volume,
            source,
            ingested_at
        ) as delivered
    from {{ ref('int_prices_daily_latest') }}
    where {{ mp_in_rebuild_window('trade_date') }}
),

{% if rebuild_from is none -%}
latest as (
    select * from window_bars
),
{%- else -%}
held_before as (
    select {{ columns | join(', ') }}
    from {{ mp_published(this, columns) }}
    where trade_date < date'{{ rebuild_from }}'
),

last_bars_before as (
    select
        ticker,
        max(trade_date) as trade_date,
        max_by(close, trade_date) as close,
        max_by(vendor_adj_close, trade_date) as adj_close
    from {{ mp_published(
        this.incorporate(path={"identifier": "prices_daily"})) }}
    where trade_month < '{{ rebuild_from[:7] }}'
    group by ticker
),

latest as (
    select * from window_bars
    union all
    select
        ticker,
        trade_date,
        cast(null as string) as batch_id,
        cast(null as bigint) as line_number,
        close,
        adj_close,
        true as is_context,
        null as delivered
    from last_bars_before
),
{%- endif %}

splits as (
    select * from {{ ref('corporate_actions') }}
    where action_type = 'split'
),

releases as (
    select distinct
        ticker,
        trade_date,
        rule_id
    from {{ ref('stg_bronze__operator_releases') }}
),

moves as (
    select
        ticker,
        trade_date,
        batch_id,
        line_number,
        is_context,
        delivered,
        close / lag(close) over by_session as close_ratio,
        adj_close / lag(adj_close) over by_session as vendor_adj_ratio
    from latest
    window by_session as (partition by ticker order by trade_date asc)
),

candidates as (
    select
        moves.*,
        splits.split_ratio,
        case
            -- A jump the vendor's adjustment keeps is a real market move.
            when
                splits.ticker is null
                and ({{ near_split_ratio | join(' or ') }})
                and (
                    moves.vendor_adj_ratio is null
                    or abs(ln(moves.vendor_adj_ratio)) < ln(1.25)
                )
                then 'split_like_jump'
            when
                splits.ticker is not null
                and abs(ln(moves.close_ratio))
                < abs(ln(moves.close_ratio * splits.split_ratio))
                then 'split_without_jump'
        end as candidate_rule_id
    from moves
    left join splits
        on
            moves.ticker = splits.ticker
            and moves.trade_date = splits.ex_date
),

jumps as (
    select
        candidates.ticker,
        candidates.trade_date,
        candidates.batch_id,
        candidates.line_number,
        candidates.close_ratio,
        candidates.vendor_adj_ratio,
        candidates.delivered,
        -- An unresolved jump: not released by an operator.
        case
            when releases.rule_id is null then candidates.candidate_rule_id
        end as rule_id,
        case
            when
                releases.rule_id is null
                and candidates.candidate_rule_id is not null
                then candidates.trade_date
        end as jump_date,
        case
            when candidates.candidate_rule_id = 'split_without_jump'
                then
                    'split ' || cast(candidates.split_ratio as string)
                    || ' in corporate_actions without a price jump: '
                    || 'close ratio '
                    || cast(round(candidates.close_ratio, 4) as string)
                    || ', expected near '
                    || cast(round(1 / candidates.split_ratio, 4) as string)
            when candidates.vendor_adj_ratio is null
                then 'split-like jump without a split in corporate_actions'
            else
                'split-like jump that the vendor adjusted close does not show: '
                || 'a corporate action is missing'
        end as reason
    from candidates
    left join releases
        on
            candidates.ticker = releases.ticker
            and candidates.trade_date = releases.trade_date
            and candidates.candidate_rule_id = releases.rule_id
    where not candidates.is_context
),
{%- if rebuild_from is not none %}

-- Each ticker held before the window, by the jump that holds it.
earlier_jumps as (
    select distinct
        ticker,
        jump_date as trade_date,
        cast(null as string) as batch_id,
        cast(null as bigint) as line_number,
        close_ratio,
        vendor_adj_ratio,
        null as delivered,
        rule_id,
        jump_date,
        reason
    from held_before
),
{%- endif %}

all_jumps as (
    select
        *,
        false as is_context
    from jumps
    {%- if rebuild_from is not none %}
    union all
    select
        *,
        true as is_context
    from earlier_jumps
    {%- endif %}
),

with_first_jump as (
    select
        ticker,
        trade_date,
        batch_id,
        line_number,
        is_context,
        delivered,
        min(jump_date) over by_ticker as jump_date,
        min_by(close_ratio, jump_date) over by_ticker as close_ratio,
        min_by(vendor_adj_ratio, jump_date) over by_ticker as vendor_adj_ratio,
        min_by(reason, jump_date) over by_ticker as reason,
        min_by(rule_id, jump_date) over by_ticker as rule_id
    from all_jumps
    window by_ticker as (partition by ticker)
),

final as (
    select {{ held_columns | join(', ') }}
    from with_first_jump as held
    where held.trade_date >= held.jump_date and not held.is_context
    {%- if rebuild_from is not none %}
    union all
    select {{ columns | join(', ') }} from held_before
    {%- endif %}
)

select * from final
