{#-
    A node reads its own layer's audit relations but upstream layers' *published*
    relations, so gold never sees silver data that has not passed silver's gate, also
    when someone runs `dbt build --select gold` by hand. Lineage is unchanged. A node's
    layer is its folder (fqn[1]), which also holds for data tests.
-#}
{% macro ref() %}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- set upstream_schema = relation.schema -%}
    {%- set own_layer = model.fqn[1] if model.fqn | length > 2 else none -%}
    {%- if upstream_schema is string
        and upstream_schema.endswith('_audit')
        and upstream_schema != own_layer ~ '_audit' -%}
        {{ return(relation.incorporate(
            path={"schema": upstream_schema[:-('_audit' | length)]})) }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}
