{#-
    Current attributes per ticker. A ticker seen only in prices is still listed, with
    sector `unknown` and its listing span taken from its first and last bar.

    With a rebuild window, the bar spans come from the published spans and the window's
    bars: bars before the window are settled (see marketpulse/incremental.py). A ticker
    whose published last bar lies in the window but who has no bar there now (a bar held
    back since) has an unknown last bar before the window: then every bar is read.
-#}
{%- set rebuild_from = mp_rebuild_from() -%}
{%- set incremental = rebuild_from is not none -%}
{%- if incremental -%}
    {%- set published = mp_published(this) -%}
{%- endif -%}
{%- if incremental and execute -%}
    {%- set lost_last_bar -%}
        select count(*) from {{ published }}
        where
            first_bar_date < date'{{ rebuild_from }}'
            and last_bar_date >= date'{{ rebuild_from }}'
            and ticker not in (
                select ticker from {{ ref('prices_daily') }}
                where trade_month >= '{{ rebuild_from[:7] }}'
            )
    {%- endset -%}
    {%- set incremental = run_query(lost_last_bar).columns[0].values()[0] == 0 -%}
{%- endif %}

with

instruments as (
    select * from {{ ref('instruments') }}
),

prices as (
    select * from {{ ref('prices_daily') }}
),

{% if not incremental -%}
bar_spans as (
    select
        ticker,
        min(trade_date) as first_bar_date,
        max(trade_date) as last_bar_date
    from prices
    group by ticker
),
{%- else -%}
window_spans as (
    select
        ticker,
        min(trade_date) as first_bar_date,
        max(trade_date) as last_bar_date
    from prices
    where trade_month >= '{{ rebuild_from[:7] }}'
    group by ticker
),

published_spans as (
    select
        ticker,
        first_bar_date,
        last_bar_date
    from {{ published }}
    where first_bar_date < date'{{ rebuild_from }}'
),

bar_spans as (
    select
        coalesce(published_spans.ticker, window_spans.ticker) as ticker,
        coalesce(published_spans.first_bar_date, window_spans.first_bar_date)
            as first_bar_date,
        coalesce(window_spans.last_bar_date, published_spans.last_bar_date)
            as last_bar_date
    from published_spans
    full outer join window_spans
        on published_spans.ticker = window_spans.ticker
),
{%- endif %}

final as (
    select
        bar_spans.first_bar_date,
        bar_spans.last_bar_date,
        coalesce(instruments.ticker, bar_spans.ticker) as ticker,
        coalesce(instruments.name, bar_spans.ticker) as name,
        coalesce(instruments.sector, 'unknown') as sector,
        coalesce(instruments.industry, 'unknown') as industry,
        coalesce(instruments.exchange, 'XNYS') as exchange,
        coalesce(instruments.listed_date, bar_spans.first_bar_date)
            as listed_date,
        case
            when instruments.ticker is null then bar_spans.last_bar_date
            else instruments.delisted_date
        end as delisted_date,
        instruments.ticker is null as is_inferred
    from instruments
    full outer join bar_spans
        on instruments.ticker = bar_spans.ticker
)

select * from final
