{#-
    dbt's default `unit` materialization creates its empty temporary view through
    `run_query`, which fetches a result set; over the Spark Thrift Server that DDL has none,
    and every unit test fails with "'NoneType' object is not iterable"
    (dbt-labs/dbt-adapters#481). The same steps as dbt-adapters 1.24's
    `global_project/macros/materializations/tests/unit.sql` (re-check on upgrades), with
    that DDL run as a plain statement. Like the default, a failing query leaves its
    session-scoped temporary view behind; the next run replaces it.
-#}
{%- materialization unit, adapter='spark' -%}
    {%- set sql_header = config.get('sql_header')
        if flags.REQUIRE_SQL_HEADER_IN_TEST_CONFIGS else none -%}
    {%- set expected_rows = config.get('expected_rows') -%}
    {%- set expected_sql = config.get('expected_sql') -%}
    {%- set expected_names = expected_rows[0].keys() if expected_rows
        else get_columns_in_query(sql) -%}

    {#- The model's column types, from an empty view of its query. -#}
    {%- set shape = make_temp_relation(this.incorporate(type='table')) -%}
    {%- call statement('unit_test_shape') -%}
        {{ get_create_table_as_sql(True, shape, get_empty_subquery_sql(sql)) }}
    {%- endcall -%}
    {%- set types, quoted = {}, {} -%}
    {%- for column in adapter.get_columns_in_relation(shape) -%}
        {%- do types.update({column.name | lower: column.data_type}) -%}
        {%- do quoted.update({column.name | lower: column.quoted}) -%}
    {%- endfor -%}
    {%- set expected_quoted = [] -%}
    {%- for name in expected_names -%}
        {%- do expected_quoted.append(quoted[name | lower]) -%}
    {%- endfor -%}

    {%- if not expected_sql -%}
        {%- set expected_sql = get_expected_sql(expected_rows, types, quoted) -%}
    {%- endif -%}
    {%- call statement('main', fetch_result=True) -%}
        {% if sql_header %}{{ sql_header }}{% endif %}
        {{ get_unit_test_sql(sql, expected_sql, expected_quoted) }}
    {%- endcall -%}

    {%- do adapter.drop_relation(shape) -%}
    {{ return({'relations': []}) }}
{%- endmaterialization -%}
