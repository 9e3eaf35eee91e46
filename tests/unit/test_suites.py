"""The reviewed suite files: each guards a real table, and none can pass vacuously."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from marketpulse.admission import record_count_parameter
from marketpulse.config import LAYERS, PROJECT_DIR
from marketpulse.errors import SuiteError
from marketpulse.gates import ROWS_EXPECTATION, load_suites
from marketpulse.ingestion.contracts import BATCH_RULES, CONTRACTS

SEVERITIES = {"critical", "warning", "info"}
# Bronze columns holding typed values as text (dates, times, numbers, flags).
TYPED = re.compile(
    r"date$|_at$|^(open|high|low|close|adj_close|volume)$|ratio|amount|score|half_day"
)


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


def test_every_bronze_dataset_has_a_suite_and_every_suite_a_dataset() -> None:
    suites = {s.table for s in load_suites(PROJECT_DIR / "expectations", "bronze")}
    assert suites == set(CONTRACTS)


@pytest.mark.parametrize("dataset", sorted(CONTRACTS))
def test_a_bronze_suite_checks_its_batch_against_the_contract_and_manifest(dataset: str) -> None:
    (suite,) = [
        s for s in load_suites(PROJECT_DIR / "expectations", "bronze") if s.table == dataset
    ]
    kwargs: dict[str, list[dict[str, object]]] = {}
    for e in suite.definition["expectations"]:
        assert e["severity"] == "critical", "a bronze check either admits a batch or not"
        kwargs.setdefault(e["type"], []).append(e["kwargs"])
    assert kwargs["expect_table_row_count_to_equal"] == [
        {"value": {"$PARAMETER": record_count_parameter(dataset)}}
    ]
    queries = " ".join(str(k["unexpected_rows_query"]) for k in kwargs[ROWS_EXPECTATION])
    for column in CONTRACTS[dataset].columns:
        if column.name == "line_number":
            assert kwargs["expect_column_values_to_not_be_null"] == [{"column": "line_number"}]
        elif column.spark_type.startswith("array"):
            assert f"coalesce(size(filter({column.name}, " in queries
        elif column.required:
            assert f"nullif(trim({column.name}), '') is null" in queries, column.name
        if TYPED.search(column.name):  # a date, a time, a number or a flag: it must parse
            parsed = (f"not trim({column.name}) rlike", f"cast(trim({column.name}) as double)")
            assert any(p in queries for p in (*parsed, f"{column.name} not in")), column.name


@pytest.mark.parametrize("suite", ["bronze__operator_releases", "silver__quarantine"])
def test_the_suites_name_exactly_the_batch_level_rules_the_cli_releases(suite: str) -> None:
    text = (PROJECT_DIR / "expectations" / f"{suite}.json").read_text()
    assert BATCH_RULES and all(f"= '{rule}'" in text for rule in BATCH_RULES)
