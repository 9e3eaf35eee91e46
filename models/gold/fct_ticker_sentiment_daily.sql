{#-
    Daily news sentiment per ticker, point in time: an article counts for the first
    session whose close is after its publication, so after-hours and weekend news go to
    the next session.

    Partitioned by month. A run with a rebuild window recomputes the months from it on,
    from the articles published at most ten days before it (the bounded search below);
    the gold window starts at the earliest month whose news changed. Rows exist only for
    sessions with news, so a month whose news moved away may be dropped at publish
    (`meta.sparse_months`); other partitioned tables never lose a published month.
-#}
{{ config(partition_by=['trade_month'], meta={'sparse_months': true}) }}
{%- set rebuild_from = mp_rebuild_from() %}

with

scores as (
    select * from {{ ref('news_sentiment') }}
    where model_name = '{{ var("sentiment_model", "vader") }}'
),

articles as (
    select * from {{ ref('news_articles') }}
    {%- if rebuild_from is not none %}
    where to_date(published_at) >= date_sub(date'{{ rebuild_from }}', 10)
    {%- endif %}
),

sessions as (
    select * from {{ ref('trading_sessions') }}
    where exchange = 'XNYS'
),

scored as (
    select
        scores.article_id,
        scores.ticker,
        scores.score,
        scores.label,
        articles.published_at
    from scores
    inner join articles
        on scores.article_id = articles.article_id
),

-- Bounded search: the next close is never more than ten days after publication.
assigned as (
    select
        scored.article_id,
        scored.ticker,
        scored.score,
        scored.label,
        scored.published_at,
        min(sessions.session_date) as trade_date
    from scored
    inner join sessions
        on
            to_date(scored.published_at) <= sessions.session_date
            and date_add(to_date(scored.published_at), 10)
            >= sessions.session_date
            and scored.published_at < sessions.close_at
    group by
        scored.article_id,
        scored.ticker,
        scored.score,
        scored.label,
        scored.published_at
),

final as (
    select
        ticker,
        trade_date,
        count(*) as article_count,
        avg(score) as mean_score,
        min(score) as min_score,
        max(score) as max_score,
        avg(case when label = 'positive' then 1.0d else 0.0d end)
            as positive_share,
        max(published_at) as latest_published_at,
        {{ mp_trade_month('trade_date') }} as trade_month
    from assigned
    where {{ mp_in_rebuild_window('trade_date') }}
    group by ticker, trade_date
)

select * from final
