{#-
    Every audit build writes a fresh, immutable directory
    `<tables root>/<layer>/<table>/_v=<run id>`. Promotion points the published table at
    it; no later build ever writes there, so readers of a published table never see files
    change under them.
-#}
{% macro spark__location_clause() %}
    {%- set layer = config.get('schema') -%}
    {%- if layer in ('silver', 'gold') %}
    location '{{ mp_layer_root(layer) }}/{{ model["alias"] }}/_v={{ mp_run_id() }}'
    {%- endif %}
{%- endmacro %}

{% macro mp_run_id() -%}
    {{ var('run_id') or invocation_id }}
{%- endmacro %}

{#- The lake's tables root: S3 on EMR, `<MARKETPULSE_HOME>/tables` locally. -#}
{% macro mp_tables_root() -%}
    {%- set explicit = env_var('MARKETPULSE_TABLES_URI', '') -%}
    {%- if explicit -%}
        {{ explicit.rstrip('/') }}
    {%- else -%}
        {%- set home = env_var('MARKETPULSE_HOME', '.lake') -%}
        {%- if not home.startswith('/') -%}
            {%- set home = env_var('PWD') ~ '/' ~ home -%}
        {%- endif -%}
        {{ home.rstrip('/') }}/tables
    {%- endif -%}
{%- endmacro %}

{#- A layer's table root: MARKETPULSE_<LAYER>_URI (a bucket per layer on AWS), else under
    the tables root. -#}
{% macro mp_layer_root(layer) -%}
    {%- set layer_uri = env_var('MARKETPULSE_' ~ layer | upper ~ '_URI', '') -%}
    {%- if layer_uri -%}
        {{ layer_uri.rstrip('/') }}
    {%- else -%}
        {{ mp_tables_root() }}/{{ layer }}
    {%- endif -%}
{%- endmacro %}
