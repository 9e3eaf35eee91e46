with

deliveries as (
    select * from {{ ref('news_article_deliveries') }}
),

ranked as (
    select
        *,
        count(*) over (partition by article_id) as deliveries,
        -- The canonical article's own latest delivery carries its content.
        row_number() over (
            partition by article_id
            order by
                delivered_article_id = article_id desc,
                ingested_at desc,
                batch_id desc,
                line_number desc
        ) as delivery_rank
    from deliveries
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
        article_id,
        deliveries - 1 as duplicates_merged
    from ranked
    where delivery_rank = 1
)

select * from final
