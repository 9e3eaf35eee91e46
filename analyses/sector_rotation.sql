-- Sector leadership by month: compounded equal-weight return and rank.
with

sector_days as (
    select * from {{ ref('fct_sector_daily') }}
),

monthly as (
    select
        sector,
        date_trunc('month', trade_date) as month_start,
        exp(sum(ln(1 + equal_weight_return))) - 1 as month_return
    from sector_days
    where equal_weight_return is not null
    group by sector, date_trunc('month', trade_date)
),

final as (
    select
        sector,
        month_start,
        month_return,
        rank() over (
            partition by month_start order by month_return desc
        ) as month_rank
    from monthly
)

select * from final
order by month_start asc, month_rank asc
