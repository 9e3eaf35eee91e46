{#-
    Every bronze record the current rules reject, with rule ids and reasons. Rebuilt from
    append-only bronze on every build: a record stays while a rule rejects it (`is_resolved`
    marks one whose key a later passing delivery corrected); one whose rule no longer fires
    (e.g. a score whose article has since arrived) moves to silver.
-#}
{%- set checked_models = [
    'int_prices_daily_checked',
    'int_corporate_actions_checked',
    'int_instruments_checked',
    'int_news_articles_checked',
    'int_news_sentiment_checked',
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
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

unreadable as (
    select * from {{ ref('stg_bronze__rejected_records') }}
),

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
            as is_resolved
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
        false as is_resolved
    from unreadable
),

final as (
    select * from failed_records
    union all
    select * from unreadable_lines
)

select * from final
