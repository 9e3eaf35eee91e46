"""W4 reads each model's statements from dbt's JSON log (no engine)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.workloads import _is_create_table, _opening, model_statements

COMMENT = '/* {"app": "dbt", "node_id": "model.mp.m"} */\n'


def _event(name: str, node: str | None, **data: object) -> str:
    info = {"name": name, "level": "debug"}
    return json.dumps(
        {"info": info, "data": {**data, "node_info": {"unique_id": node} if node else {}}}
    )


def test_each_statement_is_paired_with_its_status_per_node(tmp_path: Path) -> None:
    log = tmp_path / "dbt.log"
    log.write_text(
        "\n".join(
            [
                _event("MainReportVersion", None, version="1.11"),
                _event("SQLQuery", "model.mp.a", sql=COMMENT + "drop table if exists a"),
                _event("SQLQueryStatus", "model.mp.a", status="OK", elapsed=0.2),
                _event("SQLQuery", "model.mp.a", sql=COMMENT + "create table a as select 1"),
                _event("SQLQueryStatus", "model.mp.a", status="OK", elapsed=1.5),
                _event("SQLQuery", "model.mp.b", sql="describe b"),
                _event("SQLQueryStatus", "model.mp.b", status="OK", elapsed=0.1),
            ]
        )
    )
    assert model_statements(log) == {
        "model.mp.a": [
            (COMMENT + "drop table if exists a", 0.2),
            (COMMENT + "create table a as select 1", 1.5),
        ],
        "model.mp.b": [("describe b", 0.1)],
    }


def test_the_model_query_is_its_create_table_statement() -> None:
    assert _is_create_table(COMMENT + "\n  create table gold_audit.t\n  using parquet as select 1")
    assert _is_create_table("create or replace table t as select 1")
    assert not _is_create_table(COMMENT + "drop table if exists gold_audit.t")
    assert not _is_create_table("select 1 /* create table t */")


def test_other_statements_are_named_by_their_opening_words() -> None:
    assert _opening(COMMENT + "  drop table if exists gold_audit.t") == "drop table"
    assert _opening("DESCRIBE EXTENDED gold_audit.t") == "describe extended"
