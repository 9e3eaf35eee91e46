{{ config(materialized='ephemeral') }}

{#- Every delivered instrument record, typed, with the rules it breaks. -#}
{%- set rules = [
    {"id": "ticker_missing",
     "condition": "ticker is null or ticker = ''",
     "reason": "ticker is missing"},
    {"id": "name_missing",
     "condition": "name is null",
     "reason": "name is missing"},
    {"id": "listed_date_invalid",
     "condition": "raw_listed_date is not null and listed_date is null",
     "reason": "listed_date is not an ISO date (yyyy-mm-dd)"},
    {"id": "delisted_date_invalid",
     "condition": "raw_delisted_date is not null and delisted_date is null",
     "reason": "delisted_date is not an ISO date (yyyy-mm-dd)"},
    {"id": "delisted_before_listed",
     "condition": "delisted_date < listed_date",
     "reason": "delisted_date is before listed_date"},
] -%}

with

instruments as (
    select * from {{ ref('stg_bronze__instruments') }}
),

typed as (
    select
        source,
        batch_id,
        ingested_at,
        cast(line_number as bigint) as line_number,
        nullif(trim(listed_date), '') as raw_listed_date,
        nullif(trim(delisted_date), '') as raw_delisted_date,
        upper(trim(ticker)) as ticker,
        nullif(trim(name), '') as name,
        coalesce(nullif(trim(sector), ''), 'unknown') as sector,
        coalesce(nullif(trim(industry), ''), 'unknown') as industry,
        upper(nullif(trim(exchange), '')) as exchange,
        case
            when trim(listed_date) rlike {{ mp_iso_date_pattern() }}
                then cast(trim(listed_date) as date)
        end as listed_date,
        case
            when trim(delisted_date) rlike {{ mp_iso_date_pattern() }}
                then cast(trim(delisted_date) as date)
        end as delisted_date,
        to_json(struct(
            line_number, ticker, name, sector, industry, exchange, listed_date,
            delisted_date
        )) as raw_record
    from instruments
),

final as (
    select
        *,
        ticker as record_key,
        {{ mp_failed_rules(rules, 'id') }} as failed_rule_ids,
        {{ mp_failed_rules(rules, 'reason') }} as failed_reasons
    from typed
)

select * from final
