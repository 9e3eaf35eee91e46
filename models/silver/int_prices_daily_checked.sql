{{ config(materialized='ephemeral') }}

{#- Every delivered bar, typed, with the rules it breaks (ids and reasons). -#}
{%- set price = "open, high, low, close" -%}
{%- set rules = [
    {"id": "ticker_missing",
     "condition": "ticker is null or ticker = ''",
     "reason": "ticker is missing"},
    {"id": "trade_date_invalid",
     "condition": "trade_date is null",
     "reason": "trade_date is missing or not an ISO date (yyyy-mm-dd)"},
    {"id": "price_missing",
     "condition": "raw_open is null or raw_high is null or raw_low is null or raw_close is null",
     "reason": "an OHLC price is missing"},
    {"id": "price_not_a_number",
     "condition": "(raw_open is not null and open is null) or (raw_high is not null and high is null) or (raw_low is not null and low is null) or (raw_close is not null and close is null)",
     "reason": "an OHLC price is not a number"},
    {"id": "price_not_finite",
     "condition": "isnan(open) or isnan(high) or isnan(low) or isnan(close) or greatest(abs(open), abs(high), abs(low), abs(close)) = double('inf')",
     "reason": "an OHLC price is NaN or infinite"},
    {"id": "price_not_positive",
     "condition": "least(" ~ price ~ ") <= 0",
     "reason": "an OHLC price is zero or negative"},
    {"id": "ohlc_inconsistent",
     "condition": "high < low or open > high or open < low or close > high or close < low",
     "reason": "high and low do not bracket open and close"},
    {"id": "volume_invalid",
     "condition": "volume is null",
     "reason": "volume is missing or not a whole number"},
    {"id": "volume_negative",
     "condition": "volume < 0",
     "reason": "volume is negative"},
    {"id": "zero_volume_trade",
     "condition": "volume = 0 and not (open = high and high = low and low = close)",
     "reason": "zero volume is accepted only on a no-trade bar (open = high = low = close)"},
    {"id": "not_a_session",
     "condition": "trade_date is not null and session_date is null",
     "reason": "trade_date is not an XNYS session"},
    {"id": "future_trade_date",
     "condition": "trade_date > delivered_date",
     "reason": "trade_date is after the day the bar was delivered"},
    {"id": "adj_close_invalid",
     "condition": "raw_adj_close is not null and not (adj_close > 0 and adj_close < double('inf'))",
     "reason": "the vendor adjusted close is not a positive finite number"},
] -%}

with

bars as (
    select * from {{ ref('stg_bronze__prices_daily') }}
),

sessions as (
    select * from {{ ref('trading_sessions') }}
    where exchange = 'XNYS'
),

typed as (
    select
        source,
        batch_id,
        ingested_at,
        cast(line_number as bigint) as line_number,
        cast(trim(open) as double) as open,
        cast(trim(high) as double) as high,
        cast(trim(low) as double) as low,
        cast(trim(close) as double) as close,
        cast(trim(adj_close) as double) as adj_close,
        cast(ingested_at as date) as delivered_date,
        nullif(trim(open), '') as raw_open,
        nullif(trim(high), '') as raw_high,
        nullif(trim(low), '') as raw_low,
        nullif(trim(close), '') as raw_close,
        nullif(trim(adj_close), '') as raw_adj_close,
        upper(trim(ticker)) as ticker,
        case
            when trim(trade_date) rlike {{ mp_iso_date_pattern() }}
                then cast(trim(trade_date) as date)
        end as trade_date,
        case
            when trim(volume) rlike '^-?[0-9]+$'
                then cast(trim(volume) as bigint)
        end as volume,
        to_json(struct(
            line_number, ticker, trade_date, open, high, low, close, adj_close,
            volume
        )) as raw_record
    from bars
),

with_session as (
    select
        typed.*,
        sessions.session_date
    from typed
    left join sessions
        on typed.trade_date = sessions.session_date
),

final as (
    select
        *,
        concat_ws('|', ticker, cast(trade_date as string)) as record_key,
        {{ mp_failed_rules(rules, 'id') }} as failed_rule_ids,
        {{ mp_failed_rules(rules, 'reason') }} as failed_reasons
    from with_session
)

select * from final
