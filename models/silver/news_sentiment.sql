with

passing as (
    select * from {{ ref('int_news_sentiment_checked') }}
    where size(failed_rule_ids) = 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by canonical_article_id, ticker, model_name
            order by ingested_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from passing
),

final as (
    select
        ticker,
        model_name,
        model_version,
        score,
        label,
        source,
        batch_id,
        ingested_at,
        canonical_article_id as article_id
    from ranked
    where delivery_rank = 1
)

select * from final
