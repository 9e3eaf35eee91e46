{#-
    Whether the published news_sentiment still holds the winner of every key among the
    scores the published silver version read, given `deliveries` (this run's
    news_article_deliveries): every article id it read maps to the same articles as then,
    and no score it quarantined as `article_unknown` has its article now. Then ranking the
    unread batches' scores beside the published winners gives the same result as ranking
    every delivered score.
-#}
{% macro mp_scores_keep_their_articles(deliveries) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set published = mp_published(deliveries) -%}
    {%- set quarantine = mp_published(
        deliveries.incorporate(path={"identifier": "quarantine"})) -%}
    {%- set query -%}
        with read_ids as (
            select distinct delivered_article_id, article_id from {{ published }}
        ),
        current_ids as (
            select distinct delivered_article_id, article_id from {{ deliveries }}
        ),
        remapped as (
            select 1
            from read_ids
            full outer join (
                select * from current_ids
                where delivered_article_id in (select delivered_article_id from read_ids)
            ) as now_read
                on read_ids.delivered_article_id = now_read.delivered_article_id
                and read_ids.article_id = now_read.article_id
            where read_ids.article_id is null or now_read.article_id is null
            limit 1
        ),
        arrived as (
            select 1
            from {{ quarantine }}
            where
                dataset = 'news_sentiment'
                and array_contains(split(rule_ids, ','), 'article_unknown')
                and trim(get_json_object(raw_record, '$.article_id')) in (
                    select delivered_article_id from current_ids
                    where delivered_article_id not in (
                        select delivered_article_id from read_ids
                    )
                )
            limit 1
        )
        select
            (select count(*) from remapped) = 0
            and (select count(*) from arrived) = 0
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}
