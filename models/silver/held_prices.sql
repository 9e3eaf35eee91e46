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

with

latest as (
    select * from {{ ref('int_prices_daily_latest') }}
),

splits as (
    select * from {{ ref('corporate_actions') }}
    where action_type = 'split'
),

releases as (
    select * from {{ ref('stg_bronze__operator_releases') }}
),

moves as (
    select
        ticker,
        trade_date,
        close / lag(close) over by_session as close_ratio,
        adj_close / lag(adj_close) over by_session as vendor_adj_ratio
    from latest
    window by_session as (partition by ticker order by trade_date asc)
),

split_like_moves as (
    select *
    from moves
    where {{ near_split_ratio | join(' or ') }}
),

unexplained_jumps as (
    select
        split_like_moves.ticker,
        split_like_moves.trade_date as jump_date,
        split_like_moves.close_ratio,
        split_like_moves.vendor_adj_ratio,
        case
            when split_like_moves.vendor_adj_ratio is null
                then 'split-like jump without a split in corporate_actions'
            else
                'split-like jump that the vendor adjusted close does not show: '
                || 'a corporate action is missing'
        end as reason,
        'split_like_jump' as rule_id
    from split_like_moves
    left anti join splits
        on
            split_like_moves.ticker = splits.ticker
            and split_like_moves.trade_date = splits.ex_date
    -- A jump the vendor's adjustment keeps is a real market move.
    where
        split_like_moves.vendor_adj_ratio is null
        or abs(ln(split_like_moves.vendor_adj_ratio)) < ln(1.25)
),

splits_without_jump as (
    select
        splits.ticker,
        splits.ex_date as jump_date,
        moves.close_ratio,
        moves.vendor_adj_ratio,
        'split ' || cast(splits.split_ratio as string)
        || ' in corporate_actions without a price jump: close ratio '
        || cast(round(moves.close_ratio, 4) as string) || ', expected near '
        || cast(round(1 / splits.split_ratio, 4) as string) as reason,
        'split_without_jump' as rule_id
    from splits
    inner join moves
        on
            splits.ticker = moves.ticker
            and splits.ex_date = moves.trade_date
    where
        abs(ln(moves.close_ratio))
        < abs(ln(moves.close_ratio * splits.split_ratio))
),

unresolved as (
    select candidates.*
    from (
        select * from unexplained_jumps
        union all
        select * from splits_without_jump
    ) as candidates
    left anti join releases
        on
            candidates.ticker = releases.ticker
            and candidates.jump_date = releases.trade_date
            and candidates.rule_id = releases.rule_id
),

first_jump as (
    select
        ticker,
        min_by(jump_date, jump_date) as jump_date,
        min_by(close_ratio, jump_date) as close_ratio,
        min_by(vendor_adj_ratio, jump_date) as vendor_adj_ratio,
        min_by(reason, jump_date) as reason,
        min_by(rule_id, jump_date) as rule_id
    from unresolved
    group by ticker
),

final as (
    select
        latest.ticker,
        latest.trade_date,
        latest.batch_id,
        latest.line_number,
        first_jump.jump_date,
        first_jump.close_ratio,
        first_jump.vendor_adj_ratio,
        first_jump.reason,
        first_jump.rule_id
    from latest
    inner join first_jump
        on
            latest.ticker = first_jump.ticker
            and latest.trade_date >= first_jump.jump_date
)

select * from final
