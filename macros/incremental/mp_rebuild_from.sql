{#-
    Partitioned models (`partition_by=['trade_month']`) rebuild only the months from
    `var('rebuild_from')` (the first day of a month, set per layer by `marketpulse build`)
    on; promotion re-points just those partitions and keeps the older ones. Without the
    var (a hand-run `dbt build`, `--full-refresh`) every month is rebuilt.
-#}
{% macro mp_rebuild_from() -%}
    {%- set value = var('rebuild_from', none) -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-01$', value | string) -%}
        {{ exceptions.raise_compiler_error(
            "var rebuild_from must be the first day of a month (yyyy-mm-01), got "
            ~ value) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro %}

{#- The partition value (yyyy-MM) of a date expression. -#}
{% macro mp_trade_month(date_expression) -%}
    date_format({{ date_expression }}, 'yyyy-MM')
{%- endmacro %}

{#- A filter keeping rows from the rebuild window on (always true on a full build). -#}
{% macro mp_in_rebuild_window(date_column) -%}
    {%- set rebuild_from = mp_rebuild_from() -%}
    {%- if rebuild_from is none -%}
        true
    {%- else -%}
        {{ date_column }} >= date'{{ rebuild_from }}'
    {%- endif -%}
{%- endmacro %}

{#-
    A partitioned relation of this layer as a whole: its audit build holds only the rebuilt
    months, so the months before the window come from the published table.
-#}
{% macro mp_whole(model_name) -%}
    {%- set audit = ref(model_name) -%}
    {%- set rebuild_from = mp_rebuild_from() -%}
    {%- if rebuild_from is none -%}
        {{ audit }}
    {%- else -%}
        {%- set audit_columns = [] -%}
        {%- for c in (adapter.get_columns_in_relation(audit) if execute else []) -%}
            {%- do audit_columns.append(c.column ~ ' ' ~ c.dtype) -%}
        {%- endfor -%}
        {#- A changed model cannot be stitched onto its published months. -#}
        {%- set published = mp_published(
            audit, audit_columns, typed=true) -%}
        (
            select * from {{ published }}
            where trade_month < {{ mp_trade_month("date'" ~ rebuild_from ~ "'") }}
            union all
            select * from {{ audit }}
        )
    {%- endif -%}
{%- endmacro %}

{#-
    The published twin (`silver.x`) of an audit relation (`silver_audit.x`), which a build
    with `rebuild_from` or `log_batches` continues from; none yet fails the compile. With
    `columns` (names, or "name type" when `typed`), a published relation with other
    columns fails it too: its rows cannot be kept beside the new ones. With `required`
    (names), one lacking any of them fails it: the caller reads them.
-#}
{% macro mp_published(audit, columns=none, typed=false, required=none) -%}
    {%- set published = audit.incorporate(
        path={"schema": audit.schema[:-('_audit' | length)]}) -%}
    {%- if execute and adapter.get_relation(
            database=published.database, schema=published.schema,
            identifier=published.identifier) is none -%}
        {{ exceptions.raise_compiler_error(
            published ~ " is not published yet, so there is nothing to continue from: "
            ~ "rebuild with `marketpulse build --full-refresh` (by hand: dbt without the "
            ~ "vars rebuild_from and log_batches)") }}
    {%- endif -%}
    {%- if execute and (columns is not none or required is not none) -%}
        {%- set found = [] -%}
        {%- set names = [] -%}
        {%- for c in adapter.get_columns_in_relation(published) -%}
            {%- do found.append(c.column ~ (' ' ~ c.dtype if typed else '')) -%}
            {%- do names.append(c.column) -%}
        {%- endfor -%}
        {%- if columns is not none and found != columns -%}
            {{ exceptions.raise_compiler_error(
                audit.identifier ~ " changed its columns since the published version ("
                ~ found | join(', ') ~ " -> " ~ columns | join(', ')
                ~ "): rebuild it with `marketpulse build --full-refresh`") }}
        {%- endif -%}
        {%- set absent = (required or []) | reject('in', names) | list -%}
        {%- if absent -%}
            {{ exceptions.raise_compiler_error(
                published ~ " has no " ~ absent | join(', ') ~ " to continue from: "
                ~ "rebuild it with `marketpulse build --full-refresh`") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(published) }}
{%- endmacro %}
