{{ config(materialized='ephemeral') }}

{#-
    Maps every passing delivered article to its canonical article: duplicates share a
    url or a content hash; the earliest published one (then the lowest id) is canonical.
-#}
with

passing as (
    select * from {{ ref('int_news_articles_checked') }}
    where size(failed_rule_ids) = 0
),

by_content as (
    select
        *,
        first_value(article_id) over (
            partition by content_hash
            order by published_at asc, article_id asc, ingested_at desc
        ) as content_canonical_id
    from passing
),

final as (
    select
        *,
        first_value(content_canonical_id) over (
            partition by coalesce(url, content_canonical_id)
            order by published_at asc, content_canonical_id asc
        ) as canonical_article_id
    from by_content
)

select * from final
