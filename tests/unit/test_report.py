"""The trust report from fabricated run files, with a stand-in for the engine's queries only."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from marketpulse import report
from marketpulse.config import Settings
from marketpulse.errors import EngineError, EngineUnavailable
from marketpulse.gates import data_docs_index

HOSTILE = "<script>alert('pwned')</script>"
RUN_1 = "20261101T100000Z-aaaaaa"
RUN_2 = "20261102T100000Z-bbbbbb"
RUN_3 = "20261103T100000Z-cccccc"


# --- fabricated lake ---------------------------------------------------------------------------


def outcome(
    table: str,
    expectation: str = "expect_column_values_to_not_be_null",
    *,
    success: bool = True,
    severity: str = "critical",
    observed: dict[str, Any] | None = None,
    description: str = "",
    error: str = "",
) -> dict[str, Any]:
    return {
        "suite": f"{table.split('.')[0].removesuffix('_audit')}__{table.split('.')[1]}",
        "table": table,
        "expectation": expectation,
        "kwargs": {"column": "close"},
        "severity": severity,
        "success": success,
        "observed": observed or {"unexpected_count": 0},
        "description": description,
        "error": error,
    }


def write_gate(settings: Settings, run_id: str, layer: str, outcomes: list[dict[str, Any]]) -> None:
    path = settings.lake.runs / run_id / f"gate_{layer}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    blocking = [o for o in outcomes if not o["success"] and o["severity"] == "critical"]
    path.write_text(
        json.dumps(
            {
                "layer": layer,
                "run_id": run_id,
                "passed": not blocking,
                "expectations": len(outcomes),
                "failed_critical": len(blocking),
                "failed_warning": sum(not o["success"] for o in outcomes) - len(blocking),
                "outcomes": outcomes,
            }
        )
    )


def write_manifest(
    settings: Settings, layer: str, run_id: str, published_at: str, rollback_of: str = ""
) -> None:
    directory = settings.lake.publish / layer
    directory.mkdir(parents=True, exist_ok=True)
    gate = {"layer": layer, "run_id": run_id, "passed": True}
    if rollback_of:
        gate["rollback_of"] = rollback_of
    manifest = {
        "layer": layer,
        "run_id": run_id,
        "published_at": published_at,
        "tables": {f"{layer}.prices_daily": f"file:/lake/tables/{layer}/p/_v={run_id}"},
        "gate": gate,
    }
    (directory / f"{published_at.replace(':', '')}__{run_id}.json").write_text(json.dumps(manifest))


def passing_run(settings: Settings, run_id: str, day: int) -> None:
    write_gate(settings, run_id, "silver", [outcome("silver_audit.prices_daily")] * 3)
    write_gate(settings, run_id, "gold", [outcome("gold_audit.fct_ticker_daily")] * 2)
    for layer in ("silver", "gold"):
        write_manifest(settings, layer, run_id, f"2026-11-{day:02d}T10:05:00+00:00")


def blocked_run(settings: Settings, run_id: str) -> None:
    """Silver blocked by the quarantine rate; gold never ran (no gold gate file)."""
    write_gate(
        settings,
        run_id,
        "silver",
        [
            outcome("silver_audit.prices_daily"),
            outcome(
                "silver_audit.quarantine",
                "unexpected_rows_expectation",
                success=False,
                observed={"observed_value": 7},
                description="Quarantine rate per batch is at most 5%",
            ),
            outcome(
                "silver_audit.quarantine",
                "expect_table_row_count_to_be_between",
                success=False,
                severity="warning",
                observed={"observed_value": 7},
                description=f"Any quarantined record is reported {HOSTILE}",
            ),
            outcome(
                "silver_audit.instruments",
                "validation_ran",
                success=False,
                observed={},
                error=f"AnalysisException: column {HOSTILE} not found",
            ),
        ],
    )


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "lake", port=1)


# --- a stand-in for the engine's query function ------------------------------------------------

Rows = list[tuple[Any, ...]]
HELD_COLUMNS = [("ticker", "string", ""), ("reason", "string", "")]


class FakeEngine:
    """Answers the report's SQL by the first matching fragment; records every statement."""

    def __init__(
        self,
        *,
        quarantine: Rows | None = None,
        prices_rows: int = 2016,
        held: Rows | None = None,
        missing: tuple[str, ...] = (),
        version: str = RUN_1,
        admission: Rows | None = None,
    ) -> None:
        self.calls: list[str] = []
        self.missing = missing
        quarantine = quarantine or []
        self.unexpected: list[str] = []
        self.rules: list[tuple[str, Rows]] = [
            (
                "show tables in silver_audit like 'held_prices'",
                [("silver_audit", "x", False)] if held is not None else [],
            ),
            ("describe silver_audit.held_prices", HELD_COLUMNS),
            ("from silver_audit.held_prices limit", held or []),
            ("count(*) from silver_audit.held_prices", [(len(held or []),)]),
            ("describe table extended", [("Location", f"file:/l/t/_v={version}", "")]),
            (
                "explode(split(rule_ids",
                [("prices_daily", "price_not_positive", len(quarantine), len(quarantine))],
            ),
            ("coalesce(sum(case when resolved_when_logged", [(len(quarantine), len(quarantine))]),
            ("quarantine order by", quarantine),
            ("count(*) from silver.restatements", [(1,)]),
            ("count(*) from silver_audit.restatements", [(1,)]),
            (
                "restatements order by",
                [("AAPL", "2024-06-03", "close", "1.0", "2.0", "b1", "b2", "2026-11-01 10:00:00")],
            ),
            ("date_format(expected.session_date", [("2024-06", 19, 2, 38, 37)]),
            ("left anti join silver.trading_sessions", [(0,)]),
            ("left anti join present", [("MSFT", "2024-06-04")]),
            (
                "from bronze.batches order by",
                [("b1", "prices_daily", "vendor", "2026-11-01", 10, 0, 100, "ab" * 32)],
            ),
            ("count(*) from bronze.batches", [(1,)]),
            ("where layer = 'bronze'", admission or []),
            ("from quality.gate_results", [("silver", 4, 2)]),
            ("count(*) from silver.prices_daily", [(prices_rows,)]),
        ]

    def __call__(self, sql: str) -> Rows:
        self.calls.append(sql)
        for relation in self.missing:
            if relation in sql:
                raise EngineError(
                    f"query failed: [TABLE_OR_VIEW_NOT_FOUND] The table or view `{relation}` "
                    f"cannot be found.\n  sql: {sql[:80]}"
                )
        for fragment, rows in self.rules:
            if fragment in sql:
                return list(rows)
        self.unexpected.append(sql)  # the report swallows errors: keep them for the test
        raise AssertionError(f"unexpected query: {sql}")


QUARANTINED = [
    (
        "prices_daily",
        "vendor",
        "batch-1",
        1,
        "AAPL|2024-06-03",
        "price_not_positive,ohlc_inconsistent",
        f"close is negative {HOSTILE}",
        False,
        "2026-11-02 10:00:00",
        json.dumps({"ticker": "AAPL", "close": "-5.0", "note": HOSTILE}),
    )
]


# --- reading the HTML back ---------------------------------------------------------------------


class Page(HTMLParser):
    """Links, element counts, SVG charts and text of a rendered page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: dict[str, int] = {}
        self.charts: list[dict[str, Any]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag == "svg":
            self.charts.append({"label": values.get("aria-label"), "circles": 0, "points": ""})
        if tag == "circle" and self.charts:
            self.charts[-1]["circles"] += 1
        if tag == "polyline" and self.charts:
            self.charts[-1]["points"] = values.get("points") or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def page_of(path: Path) -> Page:
    return Page(path.read_text())


def build(settings: Settings, run_id: str, engine: FakeEngine | None = None) -> Path:
    engine = engine or FakeEngine()
    page = report.build_report(settings, run_id, progress=lambda _m: None, query=engine)
    assert not engine.unexpected
    return page


def index_run_ids(settings: Settings) -> list[str]:
    html = (settings.home / "reports" / "index.html").read_text()
    return re.findall(r'href="runs/([^"]+)\.html"', html)


# --- tests -------------------------------------------------------------------------------------


def test_hostile_values_from_data_are_escaped(settings: Settings) -> None:
    blocked_run(settings, RUN_1)
    page = build(settings, RUN_1, FakeEngine(quarantine=QUARANTINED))

    html = page.read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    text = page_of(page).all_text
    assert f"close is negative {HOSTILE}" in text  # shown as text, not run
    assert f"column {HOSTILE} not found" in text
    assert "<script>" not in (settings.home / "reports" / "index.html").read_text()


def test_blocked_silver_shows_failures_and_the_audit_quarantine(settings: Settings) -> None:
    blocked_run(settings, RUN_1)
    engine = FakeEngine(quarantine=QUARANTINED)
    page = build(settings, RUN_1, engine)

    text = page_of(page).all_text
    assert "Promotion blocked at silver" in text
    assert "Quarantine rate per batch is at most 5%" in text
    assert "observed_value 7" in text
    assert "no gate_gold.json for this run (promotion stopped at silver)" in text
    assert "price_not_positive,ohlc_inconsistent" in text and "batch-1" in text
    # The blocked build is the audit one: its quarantine is read, not the published one.
    assert any("from silver_audit.quarantine order by" in sql for sql in engine.calls)
    assert not any("from silver.quarantine" in sql for sql in engine.calls)
    summary = json.loads(page.with_suffix(".json").read_text())
    assert summary["status"] == "blocked" and summary["blocked_layer"] == "silver"
    assert summary["layers"]["gold"]["status"] == "not run"
    assert summary["metrics"] == {
        "expectations": 4,
        "failed_critical": 2,
        "failed_warning": 1,
        "bronze_quarantined_batches": 0,
        "quarantined_rows": 1,
        "silver_prices_rows": 2016,
    }


def test_passing_run_reads_published_silver_and_lists_its_publication(settings: Settings) -> None:
    passing_run(settings, RUN_1, day=1)
    engine = FakeEngine()
    page = build(settings, RUN_1, engine)

    text = page_of(page).all_text
    assert any("from silver.quarantine" in sql for sql in engine.calls)
    assert "silver.quarantine holds 0 rows, 0 unresolved when logged (published)" in text
    assert f"silver.prices_daily → file:/lake/tables/silver/p/_v={RUN_1}" in text
    assert f"Serving now: silver ← run {RUN_1} · gold ← run {RUN_1}" in text
    assert "MSFT 2024-06-04" in text  # the first missing (ticker, session)
    assert "37 of 38 expected rows present" in text and "97.37%" in text
    assert json.loads(page.with_suffix(".json").read_text())["status"] == "pass"


def test_missing_tables_render_as_not_available_and_held_as_none(settings: Settings) -> None:
    blocked_run(settings, RUN_1)
    engine = FakeEngine(missing=("silver_audit", "quality.gate_results", "silver.prices_daily"))
    page = build(settings, RUN_1, engine)

    text = page_of(page).all_text
    assert "not available (silver_audit.quarantine): [TABLE_OR_VIEW_NOT_FOUND]" in text
    assert "not available (quality.gate_results)" in text
    assert "none held (silver_audit.held_prices does not exist in this lake)" in text
    metrics = json.loads(page.with_suffix(".json").read_text())["metrics"]
    assert metrics["quarantined_rows"] is None and metrics["silver_prices_rows"] is None


def test_held_prices_are_listed_when_the_table_exists(settings: Settings) -> None:
    passing_run(settings, RUN_1, day=1)
    page = build(settings, RUN_1, FakeEngine(held=[("NVDA", f"split-like jump {HOSTILE}")]))

    text = page_of(page).all_text
    assert "1 row held back in silver_audit.held_prices" in text
    assert f"NVDA split-like jump {HOSTILE}" in text


def test_an_unreachable_engine_is_asked_once_and_the_page_still_builds(
    settings: Settings,
) -> None:
    passing_run(settings, RUN_1, day=1)
    calls: list[str] = []

    def down(sql: str) -> Rows:
        calls.append(sql)
        raise EngineUnavailable("engine at 127.0.0.1:1 failed after 2 attempt(s)")

    page = report.build_report(settings, RUN_1, progress=lambda _m: None, query=down)

    assert len(calls) == 1
    assert "not available (silver.quarantine): engine at 127.0.0.1:1" in page_of(page).all_text


def test_building_a_run_never_rewrites_an_earlier_runs_page(settings: Settings) -> None:
    passing_run(settings, RUN_1, day=1)
    first = build(settings, RUN_1)
    first_json = first.with_suffix(".json")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (first, first_json)}
    index_before = (settings.home / "reports" / "index.html").read_bytes()

    blocked_run(settings, RUN_2)
    build(settings, RUN_2, FakeEngine(quarantine=QUARANTINED))

    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (first, first_json)} == before
    assert (settings.home / "reports" / "index.html").read_bytes() != index_before
    assert index_run_ids(settings) == [RUN_2, RUN_1]


def test_index_is_built_from_summaries_not_from_run_history(settings: Settings) -> None:
    passing_run(settings, RUN_1, day=1)
    build(settings, RUN_1)
    for path in (settings.lake.runs / RUN_1).glob("gate_*.json"):
        path.unlink()  # history gone: the index must not need it

    report.build_index(settings)

    assert index_run_ids(settings) == [RUN_1]
    assert (
        f"{RUN_1} 2026-11-01 10:00:00 pass pass pass 5 0 0"
        in page_of(settings.home / "reports" / "index.html").all_text
    )


def test_index_lists_runs_newest_first_whatever_the_build_order(settings: Settings) -> None:
    for run_id, day in ((RUN_2, 2), (RUN_3, 3), (RUN_1, 1)):
        passing_run(settings, run_id, day)
        build(settings, run_id)

    assert index_run_ids(settings) == [RUN_3, RUN_2, RUN_1]


def test_trend_charts_have_one_point_per_run(settings: Settings) -> None:
    passing_run(settings, RUN_1, day=1)
    build(settings, RUN_1, FakeEngine(prices_rows=2000))
    blocked_run(settings, RUN_2)
    build(settings, RUN_2, FakeEngine(quarantine=QUARANTINED, prices_rows=2000))
    passing_run(settings, RUN_3, day=3)
    build(settings, RUN_3, FakeEngine(prices_rows=2016))

    charts = page_of(settings.home / "reports" / "index.html").charts
    assert [c["label"] for c in charts] == [title for _, title in report.TRENDS]
    for chart in charts:
        assert chart["circles"] == 3, chart
        assert len(chart["points"].split()) == 3, chart
    critical = next(c for c in charts if c["label"] == "Failed critical")
    ys = [float(p.split(",")[1]) for p in critical["points"].split()]
    assert ys[1] < ys[0] == ys[2]  # the blocked run in the middle stands out upwards


def test_trend_points_skip_runs_without_the_value() -> None:
    summaries = [
        {"run_id": RUN_2, "metrics": {"quarantined_rows": None, "expectations": 5}},
        {"run_id": RUN_1, "metrics": {"quarantined_rows": 3, "expectations": 4}},
    ]
    charts = {c.title: c for c in report.trend_charts(summaries)}
    assert [p.value for p in charts["Quarantined rows"].points] == [3]
    assert [p.value for p in charts["Expectations evaluated"].points] == [4, 5]


def test_every_relative_link_resolves(settings: Settings) -> None:
    blocked_run(settings, RUN_1)
    dbt = settings.lake.runs / RUN_1 / "dbt_silver" / "run_results.json"
    dbt.parent.mkdir(parents=True)
    dbt.write_text(json.dumps({"results": [{"unique_id": "model.x.y", "status": "success"}]}))
    docs = data_docs_index(settings)
    docs.parent.mkdir(parents=True)
    docs.write_text("<html></html>")
    page = build(settings, RUN_1, FakeEngine(quarantine=QUARANTINED))
    index = settings.home / "reports" / "index.html"

    for path in (page, index):
        hrefs = page_of(path).hrefs
        assert any("data_docs" in h for h in hrefs), path
        for href in hrefs:
            assert (path.parent / href).resolve().is_file(), (path, href)
    assert "gate_silver.json" in " ".join(page_of(page).hrefs)


def test_a_run_whose_dbt_build_failed_reports_it(settings: Settings) -> None:
    dbt = settings.lake.runs / RUN_1 / "dbt_silver" / "run_results.json"
    dbt.parent.mkdir(parents=True)
    dbt.write_text(json.dumps({"results": [{"unique_id": "model.x.y", "status": "error"}]}))

    page = build(settings, RUN_1)

    assert json.loads(page.with_suffix(".json").read_text())["status"] == "build failed"
    assert "dbt could not build the silver audit relations" in page_of(page).all_text


def test_unknown_or_unsafe_run_ids_are_refused(settings: Settings) -> None:
    with pytest.raises(report.ReportError, match="no run"):
        build(settings, RUN_1)
    with pytest.raises(report.ReportError, match="not a run id"):
        build(settings, "x' or '1'='1")


def test_an_unreadable_summary_is_named_not_fatal(settings: Settings) -> None:
    passing_run(settings, RUN_1, day=1)
    build(settings, RUN_1)
    (settings.home / "reports" / "runs" / "broken.json").write_text("{not json")

    index = report.build_index(settings)

    assert "unreadable summaries skipped: broken.json" in page_of(index).all_text
    assert index_run_ids(settings) == [RUN_1]


def test_bronze_verdicts_since_the_previous_run_lead_with_quarantined_batches(
    settings: Settings,
) -> None:
    passing_run(settings, RUN_1, 1)
    passing_run(settings, RUN_2, 2)
    admitted = ("bronze_audit.prices_daily", "batch_id=b-ok", RUN_2, "2026-11-02 10:00:01")
    refused = ("bronze_audit.instruments", "batch_id=b-bad", "ingest-run", "2026-11-01 12:00:00")
    # Delivered again repaired, and admitted by this run: only its latest verdict counts.
    damaged = ("bronze_audit.news_articles", "batch_id=b-fix", "ingest-run", "2026-11-01 11:00:00")
    repaired = ("bronze_audit.news_articles", "batch_id=b-fix", RUN_2, "2026-11-02 10:00:02")
    engine = FakeEngine(
        admission=[
            (*admitted, 14, 0, 0, None),
            (*refused, 9, 1, 0, f'`ticker` is delivered {HOSTILE} observed {{"unexpected": 1}}'),
            (*repaired, 12, 0, 0, None),
            (*damaged, 12, 1, 0, "the engine reads as many records observed 3"),
        ]
    )

    page = page_of(build(settings, RUN_2, engine))

    (sql,) = [c for c in engine.calls if "layer = 'bronze'" in c]
    # This run's own verdicts, and those of ingests since the previous run started.
    assert f"run_id = '{RUN_2}'" in sql and f"run_id <> '{RUN_1}'" in sql
    assert "evaluated_at > timestamp '2026-11-01 10:00:00'" in sql
    assert "evaluated_at <= timestamp '2026-11-02 10:00:00'" in sql
    text = page.all_text
    assert "2 admitted, 1 quarantined" in text and f"since run {RUN_1} started" in text
    assert "admitted news_articles b-fix" in text and "as many records" not in text
    assert text.index("b-bad") < text.index("b-ok")  # the batch to act on comes first
    assert "quarantined instruments b-bad" in text and "`ticker` is delivered" in text
    assert HOSTILE not in (settings.home / "reports" / "runs" / f"{RUN_2}.html").read_text()
    summary = json.loads((settings.home / "reports" / "runs" / f"{RUN_2}.json").read_text())
    assert summary["metrics"]["bronze_quarantined_batches"] == 1
