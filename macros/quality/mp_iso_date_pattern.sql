{#- A strict ISO date (yyyy-mm-dd); Spark's cast alone also takes '2024-1-2'. -#}
{% macro mp_iso_date_pattern() -%}
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
{%- endmacro %}
