{{ config(materialized='ephemeral') }}

{#- Every delivered corporate action, typed, with the rules it breaks. -#}
{%- set rules = [
    {"id": "ticker_missing",
     "condition": "ticker is null or ticker = ''",
     "reason": "ticker is missing"},
    {"id": "ex_date_invalid",
     "condition": "ex_date is null",
     "reason": "ex_date is missing or not an ISO date (yyyy-mm-dd)"},
    {"id": "action_type_invalid",
     "condition": "action_type not in ('split', 'dividend') or action_type is null",
     "reason": "action_type is neither split nor dividend"},
    {"id": "split_ratio_invalid",
     "condition": "action_type = 'split' and not coalesce(split_ratio > 0 and split_ratio < double('inf') and split_ratio != 1, false)",
     "reason": "a split needs a positive, finite ratio other than 1"},
    {"id": "dividend_amount_invalid",
     "condition": "action_type = 'dividend' and not coalesce(dividend_amount > 0 and dividend_amount < double('inf'), false)",
     "reason": "a dividend needs a positive, finite cash amount"},
    {"id": "future_ex_date",
     "condition": "ex_date > date_add(delivered_date, 366)",
     "reason": "ex_date is more than a year after the delivery"},
] -%}

with

actions as (
    select * from {{ ref('stg_bronze__corporate_actions') }}
),

typed as (
    select
        source,
        batch_id,
        ingested_at,
        cast(line_number as bigint) as line_number,
        cast(trim(split_ratio) as double) as split_ratio,
        cast(trim(dividend_amount) as double) as dividend_amount,
        cast(ingested_at as date) as delivered_date,
        upper(trim(ticker)) as ticker,
        lower(trim(action_type)) as action_type,
        case
            when trim(ex_date) rlike {{ mp_iso_date_pattern() }}
                then cast(trim(ex_date) as date)
        end as ex_date,
        to_json(struct(
            line_number, ticker, ex_date, action_type, split_ratio,
            dividend_amount
        )) as raw_record
    from actions
),

final as (
    select
        *,
        concat_ws('|', ticker, cast(ex_date as string), action_type)
            as record_key,
        {{ mp_failed_rules(rules, 'id') }} as failed_rule_ids,
        {{ mp_failed_rules(rules, 'reason') }} as failed_reasons
    from typed
)

select * from final
