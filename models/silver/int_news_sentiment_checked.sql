{{ config(materialized='ephemeral') }}

{#- Every delivered sentiment score, typed, with the rules it breaks. -#}
{%- set article_rule = [
    {"id": "article_unknown",
     "condition": "typed.article_id is not null and articles.known_article_id is null",
     "reason": "no passing article with this id has been delivered (yet)"},
] -%}
{#- int_news_sentiment_typed's columns but its rules (keep in step). -#}
{%- set columns = [
    'source', 'batch_id', 'ingested_at', 'line_number', 'score', 'article_id', 'ticker',
    'model_name', 'model_version', 'label', 'raw_record', 'record_key',
] -%}

with

typed as (
    select * from {{ ref('int_news_sentiment_typed') }}
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
        this.incorporate(path={"identifier": "news_article_deliveries"})) }}
    {%- endif %}
),

final as (
    select
        {%- for column in columns %}
        typed.{{ column }},
        {%- endfor %}
        concat(
            typed.failed_rule_ids, {{ mp_failed_rules(article_rule, 'id') }}
        ) as failed_rule_ids,
        concat(
            typed.failed_reasons, {{ mp_failed_rules(article_rule, 'reason') }}
        ) as failed_reasons
    from typed
    left join articles
        on typed.article_id = articles.known_article_id
)

select * from final
