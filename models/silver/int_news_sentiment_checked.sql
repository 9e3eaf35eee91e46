{{ config(materialized='ephemeral') }}

{#- Every delivered sentiment score, typed, with the rules it breaks. -#}
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
    {"id": "article_unknown",
     "condition": "article_id is not null and known_article_id is null",
     "reason": "no passing article with this id has been delivered (yet)"},
] -%}

with

scores as (
    select * from {{ ref('stg_bronze__news_sentiment') }}
),

-- Every article id with a passing delivery. With `log_batches`, the read
-- batches' ids come from the published news_article_deliveries: bronze is read
-- only for the unread batches. Not a ref to this run's deliveries: quarantine
-- reads this model also in builds that keep the news tables without building.
articles as (
    select distinct article_id as known_article_id
    from {{ ref('int_news_articles_checked') }}
    where size(failed_rule_ids) = 0 and {{ mp_in_log_batches('batch_id') }}
    {%- if mp_log_batches() is not none %}
    union
    select delivered_article_id from {{ mp_published(
        this.incorporate(path={"identifier": "news_article_deliveries"}),
        "build without log_batches first") }}
    {%- endif %}
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
        typed.*,
        articles.known_article_id,
        concat_ws('|', typed.article_id, typed.ticker, typed.model_name)
            as record_key,
        {{ mp_failed_rules(rules, 'id') }} as failed_rule_ids,
        {{ mp_failed_rules(rules, 'reason') }} as failed_reasons
    from typed
    left join articles
        on typed.article_id = articles.known_article_id
)

select * from final
