{#-
    `var('log_batches')`: the bronze batches no published silver version has read, set by
    `marketpulse build` when they all landed after the ones it read. The append-only logs
    (`quarantine`, `restatements`) add their records; the news tables and the price
    ranking take what the published version read from it and read bronze only for these.
    Without the var (a hand-run `dbt build`, `--full-refresh`, the first build) everything
    is derived from every batch.
-#}
{% macro mp_log_batches() -%}
    {%- set value = var('log_batches', none) -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is string or value is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "var log_batches must be a list of batch ids, got " ~ value) }}
    {%- endif -%}
    {%- for batch_id in value -%}
        {%- if not modules.re.fullmatch('[A-Za-z0-9._:+-]+', batch_id | string) -%}
            {{ exceptions.raise_compiler_error("var log_batches: not a batch id: " ~ batch_id) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(value | list) }}
{%- endmacro %}

{#-
    A filter keeping the rows of the batches the logs append (always true without the var).
    The ids were checked by `mp_log_batches`, so they need no escaping.
-#}
{% macro mp_in_log_batches(batch_column) -%}
    {%- set batch_ids = mp_log_batches() -%}
    {%- if batch_ids is none -%}
        true
    {%- elif batch_ids | length == 0 -%}
        false
    {%- else -%}
        {{ batch_column }} in ('{{ batch_ids | join("', '") }}')
    {%- endif -%}
{%- endmacro %}

{#-
    The log this model builds, as served: the new rows of `new_rows` (a CTE holding
    `columns`) and, when appending, the published rows of each month they land in, copied
    unchanged so that promotion can re-point just those months.
-#}
{% macro mp_log(new_rows, columns, month_column) -%}
    {%- if mp_log_batches() is none -%}
    select {{ columns | join(', ') }} from {{ new_rows }}
    {%- else -%}
    select {{ columns | join(', ') }}
    from {{ mp_published(this, columns) }}
    where {{ month_column }} in (select distinct {{ month_column }} from {{ new_rows }})
    union all
    select {{ columns | join(', ') }} from {{ new_rows }}
    {%- endif -%}
{%- endmacro %}
