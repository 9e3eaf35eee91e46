with

canonical as (
    select * from {{ ref('int_news_articles_canonical') }}
),

ranked as (
    select
        *,
        count(*) over (partition by canonical_article_id) as deliveries,
        -- The canonical article's own latest delivery carries its content.
        row_number() over (
            partition by canonical_article_id
            order by
                article_id = canonical_article_id desc,
                ingested_at desc,
                batch_id desc,
                line_number desc
        ) as delivery_rank
    from canonical
),

final as (
    select
        published_at,
        headline,
        summary,
        publisher,
        url,
        tickers,
        content_hash,
        source,
        batch_id,
        ingested_at,
        canonical_article_id as article_id,
        deliveries - 1 as duplicates_merged
    from ranked
    where delivery_rank = 1
)

select * from final
