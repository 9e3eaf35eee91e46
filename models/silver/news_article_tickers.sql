with

articles as (
    select * from {{ ref('news_articles') }}
),

final as (
    select distinct
        article_id,
        published_at,
        explode(tickers) as ticker
    from articles
)

select * from final
