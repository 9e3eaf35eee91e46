"""The reviewed suite files: each guards a real table, and none can pass vacuously."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketpulse.config import LAYERS, PROJECT_DIR
from marketpulse.errors import SuiteError
from marketpulse.gates import load_suites

SEVERITIES = {"critical", "warning", "info"}


def _models(layer: str) -> set[str]:
    # Intermediate (`int_`) models are ephemeral: inlined, never published.
    return {
        p.stem
        for p in (PROJECT_DIR / "models" / layer).glob("*.sql")
        if not p.stem.startswith("int_")
    }


@pytest.mark.parametrize("layer", LAYERS)
def test_every_model_of_a_layer_has_a_suite_and_every_suite_a_model(layer: str) -> None:
    suites = {s.table for s in load_suites(PROJECT_DIR / "expectations", layer)}
    assert suites == _models(layer)


@pytest.mark.parametrize(
    "path", sorted((PROJECT_DIR / "expectations").glob("*.json")), ids=lambda p: p.stem
)
def test_suite_is_well_formed(path: Path) -> None:
    import great_expectations as gx

    definition = json.loads(path.read_text())
    assert definition["name"] == path.stem
    expectations = definition["expectations"]
    assert expectations, "a suite with zero expectations would pass anything"
    assert all(e.get("severity") in SEVERITIES for e in expectations)
    may_be_empty = definition.get("meta", {}).get("may_be_empty", False)
    assert may_be_empty or any(
        e["type"] == "expect_table_row_count_to_be_between"
        and e["kwargs"].get("min_value", 0) >= 1
        and e["severity"] == "critical"
        for e in expectations
    ), "an empty build must never be published"
    suite = gx.ExpectationSuite(name=path.stem, expectations=expectations)
    assert len(suite.expectations) == len(expectations)


def test_a_layer_without_suites_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="unguarded"):
        load_suites(tmp_path, "silver")


def test_a_suite_named_unlike_its_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "silver__x.json").write_text(json.dumps({"name": "other", "expectations": []}))
    with pytest.raises(SuiteError, match="suite name"):
        load_suites(tmp_path, "silver")
