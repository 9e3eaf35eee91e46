{{ config(materialized='ephemeral') }}

{#- Every delivered article, typed, with the rules it breaks. -#}
{%- set rules = [
    {"id": "article_id_missing",
     "condition": "article_id is null",
     "reason": "article_id is missing"},
    {"id": "published_at_invalid",
     "condition": "published_at is null",
     "reason": "published_at is missing, unparseable or has no time zone"},
    {"id": "headline_missing",
     "condition": "headline is null",
     "reason": "headline is missing"},
    {"id": "tickers_missing",
     "condition": "coalesce(size(tickers), -1) <= 0",
     "reason": "the article mentions no ticker"},
    {"id": "published_in_future",
     "condition": "published_at > ingested_at + interval 1 day",
     "reason": "published_at is more than a day after the delivery"},
] -%}

with

articles as (
    select * from {{ ref('stg_bronze__news_articles') }}
),

typed as (
    select
        source,
        batch_id,
        ingested_at,
        cast(line_number as bigint) as line_number,
        nullif(trim(article_id), '') as article_id,
        nullif(trim(headline), '') as headline,
        nullif(trim(summary), '') as summary,
        nullif(trim(publisher), '') as publisher,
        nullif(trim(url), '') as url,
        -- A timestamp without a zone is ambiguous: it is rejected, not guessed.
        case
            when trim(published_at) rlike '(Z|[+-][0-9]{2}:?[0-9]{2})$'
                then cast(trim(published_at) as timestamp)
        end as published_at,
        array_distinct(
            filter(
                transform(tickers, mentioned -> upper(trim(mentioned))),
                mentioned -> mentioned is not null and mentioned != ''
            )
        ) as tickers,
        sha2(
            concat_ws('|', lower(trim(headline)), lower(trim(summary))), 256
        ) as content_hash,
        to_json(struct(
            line_number, article_id, published_at, headline, summary, publisher,
            url, tickers
        )) as raw_record
    from articles
),

final as (
    select
        *,
        article_id as record_key,
        {{ mp_failed_rules(rules, 'id') }} as failed_rule_ids,
        {{ mp_failed_rules(rules, 'reason') }} as failed_reasons
    from typed
)

select * from final
