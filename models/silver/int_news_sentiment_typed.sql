{{ config(materialized='ephemeral') }}

{#-
    Every delivered sentiment score, typed, with the rules it breaks that read the score
    alone. int_news_sentiment_checked adds the one that reads the articles; news_sentiment
    enforces that one by joining this run's article deliveries.
-#}
{%- set rules = [
    {"id": "article_id_missing",
     "condition": "article_id is null",
     "reason": "article_id is missing"},
    {"id": "ticker_missing",
     "condition": "ticker is null or ticker = ''",
     "reason": "ticker is missing"},
    {"id": "model_missing",
     "condition": "model_name is null or model_version is null",
     "reason": "model name or version is missing"},
    {"id": "score_invalid",
     "condition": "not coalesce(score between -1 and 1, false)",
     "reason": "score is missing, not a number, or outside [-1, 1]"},
    {"id": "label_invalid",
     "condition": "not coalesce(label in ('positive', 'neutral', 'negative'), false)",
     "reason": "label is not positive, neutral or negative"},
] -%}

with

scores as (
    select * from {{ ref('stg_bronze__news_sentiment') }}
),

typed as (
    select
        source,
        batch_id,
        ingested_at,
        cast(line_number as bigint) as line_number,
        -- NaN sorts above 1 in Spark, so the range rule rejects it too.
        cast(trim(score) as double) as score,
        nullif(trim(article_id), '') as article_id,
        upper(trim(ticker)) as ticker,
        lower(nullif(trim(model_name), '')) as model_name,
        nullif(trim(model_version), '') as model_version,
        lower(trim(label)) as label,
        to_json(struct(
            line_number, article_id, ticker, model_name, model_version, score,
            label
        )) as raw_record
    from scores
),

final as (
    select
        *,
        concat_ws('|', article_id, ticker, model_name) as record_key,
        {{ mp_failed_rules(rules, 'id') }} as failed_rule_ids,
        {{ mp_failed_rules(rules, 'reason') }} as failed_reasons
    from typed
)

select * from final
