"""Every gate decision, appended to a persistent table analysts can query and report on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from marketpulse.engine import EngineClient, quote
from marketpulse.gates import GateResult

TABLE = "quality.gate_results"
COLUMNS = (
    "run_id string, layer string, suite string, table_name string, partition_range string, "
    "expectation string, kwargs string, description string, severity string, "
    "success boolean, blocks boolean, observed string, error string, evaluated_at timestamp"
)


def ensure_table(client: EngineClient) -> None:
    client.execute("create database if not exists quality")
    client.execute(f"create table if not exists {TABLE} ({COLUMNS}) using parquet")


def record(
    client: EngineClient,
    gate: GateResult,
    partition_range: str = "all",
    table_ranges: Mapping[str, str] | None = None,
) -> None:
    """One row per expectation outcome; a single insert per gate. `table_ranges`
    (qualified table -> range) overrides `partition_range` for the tables it names."""
    table_ranges = table_ranges or {}
    ensure_table(client)
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    rows = []
    for o in gate.outcomes:
        values = [
            quote(gate.run_id),
            quote(gate.layer),
            quote(o.suite),
            quote(o.table),
            quote(table_ranges.get(o.table, partition_range)),
            quote(o.expectation),
            quote(json.dumps(o.kwargs, sort_keys=True, default=str)),
            quote(o.description),
            quote(o.severity),
            "true" if o.success else "false",
            "true" if o.blocks else "false",
            quote(json.dumps(o.observed, sort_keys=True, default=str)),
            quote(o.error),
            f"timestamp {quote(at)}",
        ]
        rows.append("(" + ", ".join(values) + ")")
    if rows:
        client.execute(f"insert into {TABLE} values " + ", ".join(rows))
