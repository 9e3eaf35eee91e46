{#-
    One row per passing article delivery, with the canonical article it collapses onto:
    deliveries sharing a content hash collapse onto the earliest published of them (then
    the lowest id), and those sharing a url onto the earliest published of those. A build
    with `log_batches` takes the deliveries the published version read from that version
    (they passed the same rules, which read no other dataset) and reads bronze only for the
    unread batches; the canonical mapping is then derived over all of them again, as a
    new delivery can move an older one onto another article.
-#}
{%- set columns = [
    'delivered_article_id', 'published_at', 'headline', 'summary', 'publisher', 'url',
    'tickers', 'content_hash', 'source', 'batch_id', 'line_number', 'ingested_at',
] -%}

with

unread as (
    select
        article_id as delivered_article_id,
        {{ columns[1:] | join(', ') }}
    from {{ ref('int_news_articles_checked') }}
    where size(failed_rule_ids) = 0 and {{ mp_in_log_batches('batch_id') }}
),

deliveries as (
    select * from unread
    {%- if mp_log_batches() is not none %}
    union all
    select {{ columns | join(', ') }}
    from {{ mp_published(this) }}
    {%- endif %}
),

by_content as (
    select
        *,
        first_value(delivered_article_id) over (
            partition by content_hash
            order by
                published_at asc, delivered_article_id asc, ingested_at desc
        ) as content_canonical_id
    from deliveries
),

final as (
    select
        {{ columns | join(', ') }},
        first_value(content_canonical_id) over (
            partition by coalesce(url, content_canonical_id)
            order by published_at asc, content_canonical_id asc
        ) as article_id
    from by_content
)

select * from final
