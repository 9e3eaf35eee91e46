{#- Layer models build into `<layer>_audit`; promotion publishes them into `<layer>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}_audit
    {%- endif -%}
{%- endmacro %}
