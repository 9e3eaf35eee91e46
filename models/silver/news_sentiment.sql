{#-
    The latest delivered score per (article, ticker, model). A build with `log_batches`
    ranks the unread batches' scores beside the published winners when that gives the
    same result as ranking every delivered score: when every article id the published
    version read still maps to the same articles (a new delivery can merge one into
    another), and no score it quarantined for want of its article now has that article
    (it would pass now). Otherwise every delivered score is ranked again.
-#}
{%- set columns = [
    'ticker', 'model_name', 'model_version', 'score', 'label', 'source', 'batch_id',
    'ingested_at', 'article_id',
] -%}
{%- set from_published = mp_log_batches() is not none
    and mp_scores_keep_their_articles(ref('news_article_deliveries')) %}

with

article_map as (
    select distinct
        delivered_article_id,
        article_id
    from {{ ref('news_article_deliveries') }}
),

-- The scores passing their own rules; the join below keeps those whose article
-- was delivered, which is what the article rule checks (the same ids).
passing as (
    select * from {{ ref('int_news_sentiment_typed') }}
    where
        size(failed_rule_ids) = 0
        -- Beside the published winners, only the unread batches' scores.
        and {{ mp_in_log_batches('batch_id') if from_published else 'true' }}
),

candidates as (
    select
        passing.ticker,
        passing.model_name,
        passing.model_version,
        passing.score,
        passing.label,
        passing.source,
        passing.batch_id,
        passing.ingested_at,
        article_map.article_id,
        passing.line_number
    from passing
    inner join article_map
        on passing.article_id = article_map.delivered_article_id
    {%- if from_published %}
    union all
    -- The published winner of each key; never from an unread batch, so never tied.
    select
        {{ columns | join(', ') }},
        cast(null as bigint) as line_number
    from {{ mp_published(this) }}
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by article_id, ticker, model_name
            order by ingested_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from candidates
),

final as (
    select {{ columns | join(', ') }}
    from ranked
    where delivery_rank = 1
)

select * from final
