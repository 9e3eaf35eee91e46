-- Does news sentiment lead returns? Next-session return by sentiment quintile.
with

signal as (
    select * from {{ ref('fct_sentiment_signal') }}
),

bucketed as (
    select
        next_return_1d,
        ntile(5) over (order by mean_score asc) as sentiment_quintile
    from signal
    where mean_score is not null and next_return_1d is not null
),

final as (
    select
        sentiment_quintile,
        count(*) as sessions,
        avg(next_return_1d) as mean_next_return,
        avg(case when next_return_1d > 0 then 1.0d else 0.0d end) as hit_rate
    from bucketed
    group by sentiment_quintile
)

select * from final
order by sentiment_quintile asc
