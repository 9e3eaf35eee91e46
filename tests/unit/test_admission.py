"""How bronze gate outcomes become admission decisions (no engine: the catalog statements,
the gate and the writer are recorded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from marketpulse.admission import admit
from marketpulse.errors import BronzeGateUnavailable
from marketpulse.gates import ExpectationOutcome, GateResult
from marketpulse.ingestion.bronze import BatchManifest


@dataclass
class Statements:
    sql: list[str] = field(default_factory=list)

    def execute(self, statement: str) -> None:
        self.sql.append(statement)

    def registered(self) -> list[str]:
        return [s.split("select '")[1].split("'")[0] for s in self.sql if "bronze.batches" in s]


@dataclass
class ScriptedGate:
    """Answers each round with the outcomes scripted per dataset (success, error)."""

    script: dict[str, tuple[bool, str]]
    calls: list[tuple[set[str], dict[str, Any]]] = field(default_factory=list)

    def run(self, layer: str, run_id: str, tables: set[str], parameters: dict[str, Any]) -> Any:
        self.calls.append((tables, parameters))
        return GateResult(layer, run_id, [self._outcome(t, *self.script[t]) for t in tables])

    @staticmethod
    def _outcome(dataset: str, success: bool, error: str) -> ExpectationOutcome:
        return ExpectationOutcome(
            suite=f"bronze__{dataset}",
            table=f"bronze_audit.{dataset}",
            expectation="expect_table_row_count_to_equal",
            kwargs={},
            severity="critical",
            success=success,
            error=error,
        )


@dataclass
class Writer:
    quarantined: list[str] = field(default_factory=list)

    def quarantine(self, manifest: BatchManifest, reason: str) -> BatchManifest:
        self.quarantined.append(manifest.batch_id)
        return manifest.quarantined(reason)


def _batch(dataset: str, n: int) -> BatchManifest:
    return BatchManifest(
        dataset=dataset,
        source="vendor",
        batch_id=f"{dataset}-{n}",
        ingest_date="2026-11-29",
        ingested_at="2026-11-29T05:00:00+00:00",
        record_count=10 + n,
        byte_size=100,
        sha256="0" * 64,
        schema_version=1,
        file="part-00000.csv",
    )


def _admit(gate: ScriptedGate, pending: dict[str, list[BatchManifest]]) -> Any:
    client, writer = Statements(), Writer()
    outcome: Any
    try:
        outcome = admit(client, gate, writer, pending, "/raw", "run", progress=lambda _: None)
    except BronzeGateUnavailable as exc:
        outcome = exc
    return outcome, client, writer


def test_in_one_round_the_passing_batch_registers_and_the_failing_one_is_quarantined() -> None:
    gate = ScriptedGate({"instruments": (True, ""), "prices_daily": (False, "")})
    pending = {
        "instruments": [_batch("instruments", 1)],
        "prices_daily": [_batch("prices_daily", 1)],
    }

    quarantined, client, writer = _admit(gate, pending)

    assert [m.batch_id for m in quarantined] == writer.quarantined == ["prices_daily-1"]
    assert quarantined[0].status == "quarantined"
    assert quarantined[0].reason.startswith("bronze gate failed: bronze__prices_daily")
    assert client.registered() == ["instruments-1"]
    # A partition a crashed registration may have added is dropped.
    assert any("drop if exists partition" in s and "prices_daily-1" in s for s in client.sql)
    assert gate.calls == [
        (
            {"instruments", "prices_daily"},
            {"instruments_record_count": 11, "prices_daily_record_count": 11},
        )
    ]


def test_batches_of_one_dataset_are_reviewed_in_rounds_one_at_a_time() -> None:
    gate = ScriptedGate({"prices_daily": (True, "")})
    pending = {"prices_daily": [_batch("prices_daily", 1), _batch("prices_daily", 2)]}

    quarantined, client, _ = _admit(gate, pending)

    assert quarantined == [] and client.registered() == ["prices_daily-1", "prices_daily-2"]
    assert [params for _, params in gate.calls] == [
        {"prices_daily_record_count": 11},
        {"prices_daily_record_count": 12},
    ]


def test_a_check_that_could_not_run_is_no_verdict_and_the_batch_stays_pending() -> None:
    gate = ScriptedGate({"instruments": (True, ""), "prices_daily": (False, "connection reset")})
    pending = {
        "instruments": [_batch("instruments", 1)],
        "prices_daily": [_batch("prices_daily", 1)],
    }

    error, client, writer = _admit(gate, pending)

    assert isinstance(error, BronzeGateUnavailable)
    assert "prices_daily batch prices_daily-1" in str(error) and "connection reset" in str(error)
    assert writer.quarantined == []  # neither quarantined ...
    assert client.registered() == ["instruments-1"]  # ... nor registered; the other one is
    assert any("quality.gate_results" in s and "prices_daily-1" in s for s in client.sql)


def test_a_batch_that_could_not_be_checked_holds_no_later_round() -> None:
    @dataclass
    class FailsFirst(ScriptedGate):
        def run(self, layer: str, run_id: str, tables: set[str], parameters: dict[str, Any]) -> Any:
            error = "connection reset" if not self.calls else ""
            self.calls.append((tables, parameters))
            return GateResult(layer, run_id, [self._outcome("prices_daily", not error, error)])

    pending = {"prices_daily": [_batch("prices_daily", 1), _batch("prices_daily", 2)]}
    error, client, writer = _admit(FailsFirst({}), pending)

    assert isinstance(error, BronzeGateUnavailable) and "prices_daily-1" in str(error)
    assert client.registered() == ["prices_daily-2"] and writer.quarantined == []


def test_a_dataset_without_outcomes_is_not_admitted() -> None:
    @dataclass
    class Silent(ScriptedGate):
        def run(self, layer: str, run_id: str, tables: set[str], parameters: dict[str, Any]) -> Any:
            return GateResult(layer, run_id, [])

    error, client, writer = _admit(Silent({}), {"instruments": [_batch("instruments", 1)]})

    assert isinstance(error, BronzeGateUnavailable)
    assert client.registered() == [] and writer.quarantined == []


@pytest.mark.parametrize("pending", [{}, {"instruments": []}])
def test_nothing_pending_runs_no_gate(pending: dict[str, list[BatchManifest]]) -> None:
    gate = ScriptedGate({})
    assert _admit(gate, pending)[0] == [] and gate.calls == []
