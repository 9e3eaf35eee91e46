{{ config(partition_by=['detected_month']) }}

{#-
    The quarantine log: every bronze record a rule rejected, with rule ids and reasons,
    appended when a build first reads its batch and never rewritten. Partitioned by the
    month its delivery landed: a build checks only the batches of `log_batches` (those no
    published version has read) and rewrites just the months their rejections land in,
    copying those months' published rows unchanged; every other month keeps its files.
    Rules reading another dataset can only stop firing (sessions and articles only
    accumulate), so a passed record is never rejected later; one whose rule stops firing
    (a score whose article arrives) is published in silver and stays in the log.
-#}
{%- set checked_models = [
    'int_prices_daily_checked',
    'int_corporate_actions_checked',
    'int_instruments_checked',
    'int_news_articles_checked',
    'int_news_sentiment_checked',
] -%}
{%- set columns = [
    'dataset', 'source', 'batch_id', 'line_number', 'raw_record', 'record_key',
    'detected_at', 'rule_ids', 'reason', 'resolved_when_logged',
    'detected_month',
] -%}

with

checked as (
    {%- for checked_model in checked_models %}
    select
        '{{ checked_model[4:-8] }}' as dataset,
        source,
        batch_id,
        line_number,
        raw_record,
        ingested_at,
        record_key,
        failed_rule_ids,
        failed_reasons
    from {{ ref(checked_model) }}
    where {{ mp_in_log_batches('batch_id') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

unreadable as (
    select * from {{ ref('stg_bronze__rejected_records') }}
    where {{ mp_in_log_batches('batch_id') }}
),

-- The later deliveries a build reads beside a rejected record's.
latest_passing as (
    select
        dataset,
        record_key,
        max(ingested_at) as last_passing_at
    from checked
    where size(failed_rule_ids) = 0
    group by dataset, record_key
),

failed_records as (
    select
        checked.dataset,
        checked.source,
        checked.batch_id,
        checked.line_number,
        checked.raw_record,
        checked.record_key,
        checked.ingested_at as detected_at,
        array_join(checked.failed_rule_ids, ',') as rule_ids,
        array_join(checked.failed_reasons, '; ') as reason,
        coalesce(latest_passing.last_passing_at > checked.ingested_at, false)
            as resolved_when_logged,
        {{ mp_trade_month('checked.ingested_at') }} as detected_month
    from checked
    left join latest_passing
        on
            checked.dataset = latest_passing.dataset
            and checked.record_key = latest_passing.record_key
    where size(checked.failed_rule_ids) > 0
),

unreadable_lines as (
    select
        dataset,
        source,
        batch_id,
        line_number,
        raw_record,
        cast(null as string) as record_key,
        ingested_at as detected_at,
        rule_id as rule_ids,
        reason,
        false as resolved_when_logged,
        {{ mp_trade_month('ingested_at') }} as detected_month
    from unreadable
),

rejected as (
    select * from failed_records
    union all
    select * from unreadable_lines
),

final as (
    {{ mp_log('rejected', columns, 'detected_month') }}
)

select * from final
