"""How expectation outcomes become a gate decision (no engine needed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from dateutil import parser

from marketpulse.config import Settings
from marketpulse.gates import ExpectationOutcome, Gate, GateResult, _raised, gx_run_name


def _outcome(success: bool, severity: str = "critical", error: str = "") -> ExpectationOutcome:
    return ExpectationOutcome(
        suite="silver__t",
        table="silver_audit.t",
        expectation="e",
        kwargs={},
        severity=severity,
        success=success,
        error=error,
    )


def test_no_outcomes_never_pass() -> None:
    assert not GateResult("silver", "r", []).passed


def test_a_failed_critical_expectation_blocks() -> None:
    gate = GateResult("silver", "r", [_outcome(True), _outcome(False)])
    assert not gate.passed and len(gate.blocking) == 1


def test_a_failed_warning_is_reported_but_does_not_block() -> None:
    gate = GateResult("silver", "r", [_outcome(True), _outcome(False, "warning")])
    assert gate.passed and len(gate.warnings) == 1 and gate.blocking == []


def test_exceptions_reported_by_metric_id_are_detected() -> None:
    nested = {
        "MetricConfigurationID(x)": {
            "raised_exception": True,
            "exception_message": 'TExecuteStatementResp(... errorMessage="Error running query: '
            "[PARSE_SYNTAX_ERROR] near 'b'\\n== SQL ==...\")",
        }
    }
    assert _raised(nested) == "[PARSE_SYNTAX_ERROR] near 'b'"
    assert _raised({"raised_exception": True, "exception_message": "boom"}) == "boom"
    assert _raised({"raised_exception": False}) == ""
    assert _raised(None) == ""


def test_gx_run_names_are_never_read_as_dates() -> None:
    unlucky = "20261128T221850Z-9166ad"  # a real run id that broke Data Docs (a 92-hour offset)
    with pytest.raises(parser.ParserError):
        parser.parse(gx_run_name(unlucky))


class _Docs:
    """A GX context's Data Docs, recording each build."""

    def __init__(self, fails: bool = False) -> None:
        self.builds: list[list[object]] = []
        self.fails = fails

    def build_data_docs(self, resource_identifiers: list[object]) -> None:
        self.builds.append(resource_identifiers)
        if self.fails:
            raise OSError("disk full")


def test_one_docs_update_renders_every_result_page_and_its_suite_page() -> None:
    results = [SimpleNamespace(expectation_suite_identifier=f"suite {i}") for i in range(3)]
    docs = _Docs()
    Gate(Settings(home=Path("/nowhere")), progress=print)._update_docs(docs, results)
    assert docs.builds == [[results[0], "suite 0", results[1], "suite 1", results[2], "suite 2"]]


def test_no_results_render_nothing() -> None:
    """GX reads an empty identifier list as "every page": that would re-render the site."""
    docs = _Docs()
    Gate(Settings(home=Path("/nowhere")), progress=print)._update_docs(docs, [])
    assert docs.builds == []


def test_a_data_docs_failure_is_reported_and_never_decides_the_gate() -> None:
    said: list[str] = []
    docs = _Docs(fails=True)
    result = SimpleNamespace(expectation_suite_identifier="suite")
    Gate(Settings(home=Path("/nowhere")), progress=said.append)._update_docs(docs, [result])
    assert len(docs.builds) == 1
    assert said == ["gate: Data Docs not updated (OSError: disk full); the results stand"]
