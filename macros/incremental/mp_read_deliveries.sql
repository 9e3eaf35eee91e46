{#-
    The price columns a delivery carries once typed: what the latest-delivery ranking and
    the restatements log compare.
-#}
{% macro mp_delivery_columns() -%}
    {{ return([
        'ticker', 'trade_date', 'open', 'high', 'low', 'close', 'adj_close', 'volume',
        'source', 'batch_id', 'line_number', 'ingested_at',
    ]) }}
{%- endmacro %}

{#-
    Whether a build can take the deliveries the published silver version read from what it
    publishes, instead of ranking every delivered bar again: with a rebuild window and the
    unread batches known (`log_batches`, which `marketpulse build` sets only when they all
    landed after the ones read: a published winner is then earlier than every unread
    delivery, see marketpulse/incremental.py).
-#}
{% macro mp_reads_published_deliveries() -%}
    {{ return(mp_rebuild_from() is not none and mp_log_batches() is not none) }}
{%- endmacro %}

{#-
    From the window on, the latest passing delivery of every key among the batches the
    published silver version read: the bar it publishes in prices_daily, or the one it
    holds back in held_prices (one row per key between them). `audit` is any silver audit
    relation: it names the schema. Ranked beside the unread batches' deliveries, these
    give the same winner as ranking every delivery.
-#}
{% macro mp_read_deliveries(audit) -%}
    {%- set rebuild_from = mp_rebuild_from() -%}
    {%- set missing = "build without rebuild_from first" -%}
    {%- set shared = (
        'ticker, trade_date, open, high, low, close, vendor_adj_close as adj_close, volume, '
        ~ 'source, batch_id, line_number, ingested_at') -%}
    select {{ shared }}
    from {{ mp_published(audit.incorporate(path={"identifier": "prices_daily"}), missing) }}
    where trade_month >= '{{ rebuild_from[:7] }}'
    union all
    select {{ shared }}
    from {{ mp_published(audit.incorporate(path={"identifier": "held_prices"}), missing) }}
    where trade_date >= date'{{ rebuild_from }}'
{%- endmacro %}
