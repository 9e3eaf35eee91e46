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
    {%- set shared = [] -%}
    {%- for column in mp_delivery_columns() -%}
        {#- Both tables keep the delivered adjusted close as vendor_adj_close. -#}
        {%- do shared.append(
            'vendor_adj_close as adj_close' if column == 'adj_close' else column) -%}
    {%- endfor -%}
    {%- set shared = shared | join(', ') -%}
    select {{ shared }}
    from {{ mp_published(audit.incorporate(path={"identifier": "prices_daily"})) }}
    where trade_month >= '{{ rebuild_from[:7] }}'
    union all
    select {{ shared }}
    from {{ mp_published(audit.incorporate(path={"identifier": "held_prices"})) }}
    where trade_date >= date'{{ rebuild_from }}'
{%- endmacro %}

{#-
    The passing price deliveries a model ranks or compares, in mp_delivery_columns: with
    a window and `log_batches` (mp_reads_published_deliveries), the unread batches' bars
    from the window on beside those the published version read (mp_read_deliveries);
    otherwise every passing delivery. `audit` names the schema, as for mp_read_deliveries.
-#}
{% macro mp_price_deliveries(audit) -%}
    select {{ mp_delivery_columns() | join(', ') }}
    from {{ ref('int_prices_daily_checked') }}
    where
        size(failed_rule_ids) = 0
        {%- if mp_reads_published_deliveries() %}
        and {{ mp_in_rebuild_window('trade_date') }}
        and {{ mp_in_log_batches('batch_id') }}
    union all
    {{ mp_read_deliveries(audit) }}
        {%- endif %}
{%- endmacro %}
