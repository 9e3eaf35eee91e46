{#-
    A query for the earliest month holding one of the last `bars` bars before
    `from_month` of a ticker with a bar from `from_month` on (`from_month` when there is
    none): reading from it gives those tickers' rolling windows their full context.
    Tickers without a bar from `from_month` on are left out, so a ticker delisted years ago
    does not pull the floor back to its last bars.
    It counts bars per ticker and month, then sums them from the latest month back: a month
    holds one of the last `bars` bars when fewer than `bars` come after it. That aggregates
    instead of sorting every bar of the history (half the time on 20 years).
-#}
{% macro mp_context_floor(prices, from_month, bars) -%}
    select coalesce(min(trade_month), {{ from_month }}) as context_floor
    from (
        select
            trade_month,
            sum(month_bars) over (
                partition by ticker order by trade_month desc
            ) - month_bars as later_bars
        from (
            select
                ticker,
                trade_month,
                count(*) as month_bars
            from {{ prices }}
            where
                trade_month < {{ from_month }}
                and ticker in (
                    select ticker from {{ prices }}
                    where trade_month >= {{ from_month }}
                )
            group by ticker, trade_month
        )
    )
    where later_bars < {{ bars }}
{%- endmacro %}
