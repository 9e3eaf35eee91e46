{#- Bronze news articles beside their delivery time. -#}
with

articles as (
    select * from {{ source('bronze', 'news_articles') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        articles.line_number,
        articles.article_id,
        articles.published_at,
        articles.headline,
        articles.summary,
        articles.publisher,
        articles.url,
        articles.tickers,
        articles.source,
        articles.batch_id,
        batches.ingested_at
    from articles
    inner join batches
        on articles.batch_id = batches.batch_id
)

select * from final
