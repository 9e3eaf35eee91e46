{#- Bronze sentiment scores beside their delivery time. -#}
with

scores as (
    select * from {{ source('bronze', 'news_sentiment') }}
),

batches as (
    select * from {{ source('bronze', 'batches') }}
),

final as (
    select
        scores.line_number,
        scores.article_id,
        scores.ticker,
        scores.model_name,
        scores.model_version,
        scores.score,
        scores.label,
        scores.source,
        scores.batch_id,
        batches.ingested_at
    from scores
    inner join batches
        on scores.batch_id = batches.batch_id
)

select * from final
