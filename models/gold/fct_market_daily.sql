{#-
    Market breadth per XNYS session over the span the data covers (from the first to the
    last bar of dim_instruments' spans, so no bar is read again). Partitioned by month,
    rebuilt from the run's rebuild window on (fct_ticker_daily's audit build holds the same
    months).
-#}
{{ config(partition_by=['trade_month']) }}

with

ticker_days as (
    select * from {{ ref('fct_ticker_daily') }}
),

sessions as (
    select * from {{ ref('trading_sessions') }}
    where exchange = 'XNYS'
),

instruments as (
    select * from {{ ref('dim_instruments') }}
),

data_span as (
    select
        min(first_bar_date) as first_date,
        max(last_bar_date) as last_date
    from instruments
),

span_sessions as (
    select sessions.session_date
    from sessions
    inner join data_span
        on
            sessions.session_date >= data_span.first_date
            and sessions.session_date <= data_span.last_date
    where {{ mp_in_rebuild_window('sessions.session_date') }}
),

expected as (
    select
        span_sessions.session_date,
        count(instruments.ticker) as tickers_expected
    from span_sessions
    inner join instruments
        on
            span_sessions.session_date >= instruments.listed_date
            and (
                instruments.delisted_date is null
                or span_sessions.session_date <= instruments.delisted_date
            )
    group by span_sessions.session_date
),

present as (
    select
        trade_date,
        count(*) as tickers_present,
        count_if(return_1d > 0) as advancers,
        count_if(return_1d < 0) as decliners,
        count_if(return_1d = 0) as unchanged,
        sum(volume) as total_volume,
        avg(return_1d) as equal_weight_return,
        count_if(is_new_52w_high) as new_52w_highs,
        count_if(is_new_52w_low) as new_52w_lows
    from ticker_days
    group by trade_date
),

final as (
    select
        span_sessions.session_date as trade_date,
        present.advancers,
        present.decliners,
        present.unchanged,
        present.total_volume,
        present.equal_weight_return,
        present.new_52w_highs,
        present.new_52w_lows,
        coalesce(expected.tickers_expected, 0) as tickers_expected,
        coalesce(present.tickers_present, 0) as tickers_present,
        {{ mp_trade_month('span_sessions.session_date') }} as trade_month
    from span_sessions
    left join expected
        on span_sessions.session_date = expected.session_date
    left join present
        on span_sessions.session_date = present.trade_date
)

select * from final
