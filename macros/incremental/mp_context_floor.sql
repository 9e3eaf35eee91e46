{#-
    A query for the earliest month holding one of the last `bars` bars before `from_month`
    of a ticker with a bar from `from_month` on (`from_month` when there is none): reading
    from it gives those tickers' rolling windows their full context. Tickers without a bar
    from `from_month` on are left out, so a ticker delisted years ago does not pull the
    floor back to its last bars.
-#}
{% macro mp_context_floor(prices, from_month, bars) -%}
    select coalesce(min(trade_month), {{ from_month }}) as context_floor
    from (
        select
            trade_month,
            row_number() over (partition by ticker order by trade_date desc) as bars_back
        from {{ prices }}
        where
            trade_month < {{ from_month }}
            and ticker in (
                select ticker from {{ prices }} where trade_month >= {{ from_month }}
            )
    )
    where bars_back <= {{ bars }}
{%- endmacro %}
