"""The gate's SQL-row check runs its query once; GX's own runs it twice (real GX, SQLite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from marketpulse.counted_rows import COUNTED_ROWS
from marketpulse.gates import ROWS_EXPECTATION, Gate, SuiteFile, _spec, counted

QUERY = "select * from {batch} where price <= 0 and 'marker' = 'marker'"
SUITE = [
    {"type": ROWS_EXPECTATION, "kwargs": {"unexpected_rows_query": QUERY}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "price"}},
]


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends, from any engine (GX makes its own)."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def _validate(tmp_path: Path, expectations: list[dict[str, Any]], prices: list[float]) -> Any:
    import great_expectations as gx

    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table bars (price real)")
        conn.executemany("insert into bars values (?)", [(p,) for p in prices])
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_sqlite(
        "db", connection_string=f"sqlite:///{db}"
    ).add_table_asset("bars", table_name="bars")
    batch = asset.add_batch_definition_whole_table("whole table").get_batch()
    suite = gx.ExpectationSuite(name="s", expectations=expectations)
    return batch.validate(suite, result_format="BASIC").results[0]


@pytest.mark.parametrize(("prices", "failures"), [([1.0, 2.0], 0), ([1.0, -2.0, 0.0], 2)])
def test_the_gate_decides_on_the_count_and_runs_the_query_once(
    tmp_path: Path, statements: list[str], prices: list[float], failures: int
) -> None:
    assert [e["type"] for e in counted(SUITE)] == [COUNTED_ROWS, SUITE[1]["type"]]
    result = _validate(tmp_path, counted(SUITE)[:1], prices)
    assert result.success is (failures == 0)
    assert result.result == {"observed_value": failures}
    assert sum("'marker'" in s for s in statements) == 1
    # Reported under the suite's type; validated again (detail) as the gate validated it.
    suite = SuiteFile(name="silver__bars", layer="silver", table="bars", definition={})
    assert Gate._outcome(suite, result).expectation == ROWS_EXPECTATION
    assert _spec(result)["type"] == COUNTED_ROWS


def test_gx_own_expectation_runs_the_query_twice(tmp_path: Path, statements: list[str]) -> None:
    """Why the gate swaps it: the rows and their count are two metrics, two queries."""
    assert not _validate(tmp_path, SUITE[:1], [1.0, -2.0]).success
    assert sum("'marker'" in s for s in statements) == 2
