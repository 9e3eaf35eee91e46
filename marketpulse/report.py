"""The MarketPulse trust report: static, offline HTML per run plus an index.

Built incrementally so it stays fast as history grows (GX's Data Docs index does not):
each run writes its own page and a small JSON summary once, and the index is regenerated from
those summaries only. Old pages are never re-rendered.

Inputs: the run's gate files (`runs/<id>/gate_<layer>.json`), dbt's run results, the publish
manifests, and a few SQL queries (quarantine, restatements, calendar coverage, held prices,
bronze batches, and `quality.gate_results` for bronze verdicts and the gate history). Every
query goes through one `QueryFn`, so a failing or missing table renders as "not available"
with the engine's reason instead of failing the run, and unit tests can stand in for the
engine. Values come from data: the templates autoescape everything.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import jinja2
import markupsafe

from marketpulse.config import AUDIT_SUFFIX, LAYERS, Settings
from marketpulse.errors import EngineUnavailable, MarketPulseError, engine_error_message
from marketpulse.gates import data_docs_index  # GX itself is imported only inside gate runs

QueryFn = Callable[[str], list[tuple[Any, ...]]]
Progress = Callable[[str], None]

SUMMARY_VERSION = 1
SAMPLE_ROWS = 10  # quarantine / restatement rows shown on a page
MISSING_PAIRS = 20  # first missing (ticker, session) pairs listed
HELD_ROWS = 50
TREND_RUNS = 100  # the index charts the newest runs only, to stay readable
CALENDAR_EXCHANGE = "XNYS"
COVERAGE_SOURCE = "silver.prices_daily, silver.trading_sessions"
VALUE_LIMIT = 300  # characters of one cell before it is cut (full text in the tooltip)
NOT_FOUND = re.compile(r"NOT_FOUND|not found|cannot be found", re.IGNORECASE)
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")  # safe in SQL literals and paths
# Observed keys worth reading first; the rest follow in GX's order.
OBSERVED_FIRST = (
    "observed_value",
    "unexpected_count",
    "unexpected_percent",
    "examples",
    "element_count",
    "failures",
    "partial_unexpected_list",
    "details",
)
OBSERVED_NOISE = {"partial_unexpected_index_list", "partial_unexpected_counts"}


class ReportError(MarketPulseError):
    """The report for a run could not be built (unknown run, unwritable lake)."""


# --- the data a page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One engine-backed block: rows with their columns, or why they are not available."""

    source: str  # the relation(s) read, shown to the reader
    columns: tuple[str, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    note: str = ""
    absent: bool = False  # the relation does not exist (yet)
    error: str = ""


@dataclass(frozen=True)
class TableStatus:
    table: str
    expectations: int
    failed_critical: int
    failed_warning: int

    @property
    def status(self) -> str:
        if self.failed_critical:
            return "blocked"
        return "warnings" if self.failed_warning else "pass"


@dataclass(frozen=True)
class DbtSummary:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status -> n
    elapsed_s: float | None = None

    @property
    def errors(self) -> int:
        return sum(c.get("error", 0) for c in self.counts.values())


@dataclass(frozen=True)
class LayerGate:
    layer: str
    status: str  # pass | warnings | blocked | not run | build failed | unreadable
    expectations: int = 0
    failed_critical: int = 0
    failed_warning: int = 0
    tables: list[TableStatus] = field(default_factory=list)
    failing: list[dict[str, Any]] = field(default_factory=list)  # critical first
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    json_href: str = ""
    dbt: DbtSummary = field(default_factory=DbtSummary)
    error: str = ""


@dataclass(frozen=True)
class Publication:
    layer: str
    published_at: str
    tables: dict[str, str]
    rollback_of: str = ""
    served_now: bool = False


@dataclass
class RunData:
    run_id: str
    generated_at: str
    gates: list[LayerGate]
    publications: list[Publication]
    serving: dict[str, str]  # layer -> run id whose version is published now
    links: dict[str, str]  # label -> relative href (existing files only)
    sections: dict[str, Section]
    metrics: dict[str, int | None]
    quarantine_view: str

    @property
    def status(self) -> str:
        statuses = {g.status for g in self.gates}
        if statuses & {"blocked", "unreadable"}:
            return "blocked"
        if "build failed" in statuses:
            return "build failed"
        if statuses <= {"not run"}:
            return "no gate ran"
        return "warnings" if "warnings" in statuses else "pass"

    @property
    def blocked_layer(self) -> str | None:
        return next((g.layer for g in self.gates if g.status in ("blocked", "unreadable")), None)


# --- public API --------------------------------------------------------------------------------


def reports_dir(settings: Settings) -> Path:
    return settings.home / "reports"


def build_report(
    settings: Settings,
    run_id: str,
    progress: Progress = print,
    *,
    query: QueryFn | None = None,
) -> Path:
    """Write this run's page and summary, then regenerate the index; returns the run page.

    `query` defaults to the engine; pass another to build without one (tests, offline).
    """
    if not RUN_ID.match(run_id):
        raise ReportError(f"not a run id: {run_id!r}")
    if not (settings.lake.runs / run_id).is_dir():
        raise ReportError(f"no run {run_id} in {settings.lake.runs}")
    client = None
    if query is None:
        from marketpulse.engine import EngineClient  # keeps the module importable without PyHive

        client = EngineClient(settings, retries=1)
        query = client.query
    try:
        data = collect(settings, run_id, _breaker(query))
    finally:
        if client is not None:
            client.close()
    runs = reports_dir(settings) / "runs"
    page = runs / f"{run_id}.html"
    _write(page, render_run(data))
    _write(runs / f"{run_id}.json", json.dumps(summarize(data), indent=2, default=str))
    progress(f"report: {page}")
    build_index(settings)
    return page


def build_index(settings: Settings) -> Path:
    """Regenerate `reports/index.html` from the per-run summaries (never from history)."""
    root = reports_dir(settings)
    summaries, unreadable = load_summaries(root / "runs")
    index = root / "index.html"
    serving = _serving(settings)
    docs = _href(root, data_docs_index(settings))
    _write(index, render_index(summaries, unreadable, serving, docs))
    return index


# --- collecting a run --------------------------------------------------------------------------


def collect(settings: Settings, run_id: str, query: QueryFn) -> RunData:
    page_dir = reports_dir(settings) / "runs"
    run_dir = settings.lake.runs / run_id
    gates = _gates(run_dir, page_dir)
    silver = next((g for g in gates if g.layer == "silver"), None)
    # A blocked silver gate was judged on its audit build; otherwise readers see silver.*.
    schema = "silver" + AUDIT_SUFFIX if silver and silver.status == "blocked" else "silver"
    sections = {
        "quarantine_counts": _attempt(
            f"{schema}.quarantine", lambda: _quarantine_counts(query, schema)
        ),
        "quarantine_sample": _attempt(
            f"{schema}.quarantine", lambda: _quarantine_sample(query, schema)
        ),
        "restatements": _attempt(f"{schema}.restatements", lambda: _restatements(query, schema)),
        "coverage": _attempt(COVERAGE_SOURCE, lambda: _coverage(query)),
        "missing": _attempt(COVERAGE_SOURCE, lambda: _missing(query)),
        "held": _attempt(f"silver{AUDIT_SUFFIX}.held_prices", lambda: _held(query)),
        "admission": _attempt(
            "quality.gate_results",
            lambda: _admission(query, run_id, _previous_run(settings, run_id)),
        ),
        "batches": _attempt("bronze.batches", lambda: _batches(query)),
        "history": _attempt("quality.gate_results", lambda: _history(query, run_id, gates)),
        "versions": _attempt("catalog", lambda: _versions(query, schema, run_id)),
    }
    metrics = {
        "expectations": sum(g.expectations for g in gates),
        "failed_critical": sum(g.failed_critical for g in gates),
        "failed_warning": sum(g.failed_warning for g in gates),
        "quarantined_rows": _total(sections["quarantine_counts"]),
        "bronze_quarantined_batches": _total(sections["admission"], "quarantined"),
        "silver_prices_rows": _count(query, "silver.prices_daily"),
    }
    serving = _serving(settings)
    return RunData(
        run_id=run_id,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        gates=gates,
        publications=_publications(settings, run_id, serving),
        serving=serving,
        links=_links(settings, run_dir, page_dir, gates),
        sections=sections,
        metrics=metrics,
        quarantine_view=schema,
    )


def _breaker(query: QueryFn) -> QueryFn:
    """After the engine is found unreachable once, fail the remaining queries at once."""
    down: list[str] = []

    def guarded(sql: str) -> list[tuple[Any, ...]]:
        if down:
            raise EngineUnavailable(down[0])
        try:
            return query(sql)
        except EngineUnavailable as exc:
            down.append(str(exc))
            raise

    return guarded


def _attempt(source: str, fetch: Callable[[], Section]) -> Section:
    try:
        return fetch()
    except Exception as exc:  # a missing table or a down engine must not fail the run
        return Section(source=source, error=_reason(exc))


def _reason(exc: BaseException) -> str:
    text = engine_error_message(str(exc)) or type(exc).__name__
    return text.removeprefix("query failed: ")


def _total(section: Section, key: str = "total") -> int | None:
    return None if section.error else section.totals.get(key)


def _count(query: QueryFn, relation: str) -> int | None:
    try:
        return int(query(f"select count(*) from {relation}")[0][0])
    except Exception:
        return None


def _gates(run_dir: Path, page_dir: Path) -> list[LayerGate]:
    found = {p.stem.removeprefix("gate_"): p for p in run_dir.glob("gate_*.json")}
    order = [*LAYERS, *sorted(set(found) - set(LAYERS))]
    return [_gate(layer, found.get(layer), run_dir, page_dir) for layer in order]


def _gate(layer: str, path: Path | None, run_dir: Path, page_dir: Path) -> LayerGate:
    dbt = _dbt_summary(run_dir / f"dbt_{layer}" / "run_results.json")
    if path is None:
        status = "build failed" if dbt.errors else "not run"
        return LayerGate(layer=layer, status=status, dbt=dbt)
    href = _href(page_dir, path)
    try:
        raw = json.loads(path.read_text())
        outcomes = [dict(o) for o in raw["outcomes"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return LayerGate(
            layer=layer, status="unreadable", json_href=href, dbt=dbt, error=f"{path}: {exc}"
        )
    blocking = [o for o in outcomes if _blocks(o)]
    warnings = [o for o in outcomes if not o.get("success") and not _blocks(o)]
    status = "blocked" if blocking or not outcomes else "warnings" if warnings else "pass"
    return LayerGate(
        layer=layer,
        status=status,
        expectations=len(outcomes),
        failed_critical=len(blocking),
        failed_warning=len(warnings),
        tables=_table_statuses(layer, outcomes),
        failing=blocking + warnings,
        outcomes=outcomes,
        json_href=href,
        dbt=dbt,
    )


def _blocks(outcome: dict[str, Any]) -> bool:
    return not outcome.get("success") and outcome.get("severity") == "critical"


def _table_name(layer: str, outcome: dict[str, Any]) -> str:
    table = str(outcome.get("table") or "")
    if table.startswith("model."):  # a dbt test names the model it is attached to
        return f"{layer}{AUDIT_SUFFIX}.{table.rsplit('.', 1)[-1]}"
    return table or "(dbt tests)"


def _table_statuses(layer: str, outcomes: list[dict[str, Any]]) -> list[TableStatus]:
    by_table: dict[str, list[dict[str, Any]]] = {}
    for o in outcomes:
        by_table.setdefault(_table_name(layer, o), []).append(o)
    return [
        TableStatus(
            table=table,
            expectations=len(group),
            failed_critical=sum(_blocks(o) for o in group),
            failed_warning=sum(not o.get("success") and not _blocks(o) for o in group),
        )
        for table, group in sorted(by_table.items())
    ]


def _dbt_summary(path: Path) -> DbtSummary:
    try:
        results = dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return DbtSummary()
    counts: dict[str, dict[str, int]] = {}
    for r in results.get("results") or []:
        kind = str(r.get("unique_id", "")).split(".", 1)[0]  # model / test / seed
        status = str(r.get("status"))
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
    elapsed = results.get("elapsed_time")
    return DbtSummary(counts=counts, elapsed_s=float(elapsed) if elapsed else None)


def _manifests(settings: Settings, layer: str) -> list[Path]:
    return sorted((settings.lake.publish / layer).glob("*.json"))


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _publications(settings: Settings, run_id: str, serving: dict[str, str]) -> list[Publication]:
    """This run's promotions (and rollbacks that re-served it), found by file name."""
    found = []
    for layer in LAYERS:
        for path in sorted((settings.lake.publish / layer).glob(f"*__{run_id}.json")):
            m = _read_manifest(path)
            found.append(
                Publication(
                    layer=layer,
                    published_at=str(m.get("published_at", "")),
                    tables=dict(m.get("tables") or {}),
                    rollback_of=str((m.get("gate") or {}).get("rollback_of") or ""),
                    served_now=serving.get(layer) == run_id,
                )
            )
    return found


def _serving(settings: Settings) -> dict[str, str]:
    """Layer -> the run whose version is published now (the newest manifest)."""
    serving = {}
    for layer in LAYERS:
        paths = _manifests(settings, layer)
        if paths:
            serving[layer] = str(_read_manifest(paths[-1]).get("run_id", "?"))
    return serving


def _links(
    settings: Settings, run_dir: Path, page_dir: Path, gates: list[LayerGate]
) -> dict[str, str]:
    candidates = {"GX Data Docs": data_docs_index(settings)}
    for g in gates:
        candidates[f"gate_{g.layer}.json"] = run_dir / f"gate_{g.layer}.json"
        candidates[f"dbt {g.layer} run_results.json"] = (
            run_dir / f"dbt_{g.layer}" / "run_results.json"
        )
    return {label: href for label, path in candidates.items() if (href := _href(page_dir, path))}


def _href(page_dir: Path, target: Path) -> str:
    """A relative link that survives copying the lake; empty when the file does not exist."""
    if not target.is_file():
        return ""
    return url_quote(Path(os.path.relpath(target, page_dir)).as_posix())


# --- the engine-backed sections ----------------------------------------------------------------


def _quarantine_counts(query: QueryFn, schema: str) -> Section:
    relation = f"{schema}.quarantine"
    total, unresolved = query(
        f"select count(*), coalesce(sum(case when resolved_when_logged then 0 else 1 end), 0) "
        f"from {relation}"
    )[0]
    rows = query(
        "select dataset, rule_id, count(*), sum(case when resolved_when_logged then 0 else 1 end) "
        f"from (select dataset, resolved_when_logged, explode(split(rule_ids, ',')) as rule_id "
        f"from {relation}) group by dataset, rule_id order by 3 desc, dataset, rule_id"
    )
    return Section(
        source=relation,
        columns=("dataset", "rule id", "rows", "unresolved when logged"),
        rows=rows,
        totals={"total": int(total), "unresolved": int(unresolved or 0)},
    )


def _quarantine_sample(query: QueryFn, schema: str) -> Section:
    relation = f"{schema}.quarantine"
    columns = (
        "dataset",
        "source",
        "batch_id",
        "line_number",
        "record_key",
        "rule_ids",
        "reason",
        "resolved_when_logged",
        "detected_at",
        "raw_record",
    )
    rows = query(
        f"select {', '.join(columns)} from {relation} "
        f"order by resolved_when_logged, detected_at desc, batch_id, line_number "
        f"limit {SAMPLE_ROWS}"
    )
    note = "unresolved when logged first, newest"
    return Section(source=relation, columns=columns, rows=rows, note=note)


def _restatements(query: QueryFn, schema: str) -> Section:
    relation = f"{schema}.restatements"
    total = int(query(f"select count(*) from {relation}")[0][0])
    columns = (
        "ticker",
        "trade_date",
        "column_name",
        "old_value",
        "new_value",
        "old_batch_id",
        "new_batch_id",
        "detected_at",
    )
    rows = query(
        f"select {', '.join(columns)} from {relation} "
        f"order by detected_at desc, ticker, trade_date, column_name limit {SAMPLE_ROWS}"
    )
    return Section(source=relation, columns=columns, rows=rows, totals={"total": total})


# A ticker is expected on every session between its first and last published bar.
_EXPECTED = f"""
with sessions as (
    select session_date from silver.trading_sessions where exchange = '{CALENDAR_EXCHANGE}'
),
spans as (
    select ticker, min(trade_date) as first_bar, max(trade_date) as last_bar
    from silver.prices_daily group by ticker
),
expected as (
    select spans.ticker, sessions.session_date
    from spans inner join sessions
        on sessions.session_date between spans.first_bar and spans.last_bar
),
present as (select distinct ticker, trade_date from silver.prices_daily)
"""


def _coverage(query: QueryFn) -> Section:
    rows = query(
        _EXPECTED
        + """
        select date_format(expected.session_date, 'yyyy-MM') as month,
            count(distinct expected.session_date) as sessions,
            count(distinct expected.ticker) as tickers,
            count(*) as expected_rows,
            count(present.ticker) as present_rows
        from expected left join present
            on present.ticker = expected.ticker and present.trade_date = expected.session_date
        group by 1 order by 1
        """
    )
    off = query(
        "select count(*) from silver.prices_daily as p left anti join silver.trading_sessions "
        f"as s on s.session_date = p.trade_date and s.exchange = '{CALENDAR_EXCHANGE}'"
    )[0][0]
    table = [(*r, _percent(r[4], r[3])) for r in rows]
    expected = sum(int(r[3]) for r in rows)
    present = sum(int(r[4]) for r in rows)
    return Section(
        source=COVERAGE_SOURCE,
        columns=("month", "sessions", "tickers", "expected rows", "rows present", "coverage"),
        rows=table,
        totals={"expected": expected, "present": present, "off_calendar": int(off)},
    )


def _missing(query: QueryFn) -> Section:
    rows = query(
        _EXPECTED
        + f"""
        select expected.ticker, expected.session_date
        from expected left anti join present
            on present.ticker = expected.ticker and present.trade_date = expected.session_date
        order by expected.session_date, expected.ticker limit {MISSING_PAIRS}
        """
    )
    return Section(
        source=COVERAGE_SOURCE,
        columns=("ticker", "session"),
        rows=rows,
    )


def _percent(part: Any, whole: Any) -> str:
    return f"{100 * int(part) / int(whole):.2f}%" if whole else "—"


def _held(query: QueryFn) -> Section:
    relation = f"silver{AUDIT_SUFFIX}.held_prices"
    try:
        exists = bool(query(f"show tables in silver{AUDIT_SUFFIX} like 'held_prices'"))
    except Exception as exc:
        if not NOT_FOUND.search(str(exc)):
            raise
        exists = False  # no audit schema yet: nothing can be held
    if not exists:
        return Section(source=relation, absent=True)
    columns = _columns(query, relation)
    total = int(query(f"select count(*) from {relation}")[0][0])
    rows = query(f"select * from {relation} limit {HELD_ROWS}")
    return Section(source=relation, columns=columns, rows=rows, totals={"total": total})


def _columns(query: QueryFn, relation: str) -> tuple[str, ...]:
    names = []
    for name, *_ in query(f"describe {relation}"):
        if not name or str(name).startswith("#"):
            break  # partition and detail blocks follow
        names.append(str(name))
    return tuple(names)


def _previous_run(settings: Settings, run_id: str) -> str | None:
    """The build run before this one (run ids start with their UTC start time)."""
    earlier = [
        p.name
        for p in settings.lake.runs.iterdir()
        if p.is_dir() and p.name < run_id and RUN_ID.match(p.name)  # safe in SQL literals
    ]
    return max(earlier, default=None)


def _admission(query: QueryFn, run_id: str, previous_run: str | None) -> Section:
    """The bronze gate's latest verdict on every delivery gated since the previous build
    started: by this build (its own run id) or by an ingest in between (a run id of its own).
    Batches it quarantined never reach bronze.batches, so this is where an analyst sees them."""
    since = _started_at(previous_run) if previous_run else ""
    until = _started_at(run_id)
    between = (
        # Verdict and run times are whole seconds: a verdict in the second a run started
        # counts as before it, so each verdict belongs to exactly one run's window.
        f"evaluated_at <= timestamp '{until}' and run_id <> '{previous_run or ''}'"
        + (f" and evaluated_at > timestamp '{since}'" if since else "")
        if until
        else "false"
    )
    rows = query(
        "select table_name, partition_range, run_id, cast(min(evaluated_at) as string), "
        "count(*), count_if(blocks), count_if(coalesce(error, '') <> ''), "
        "concat_ws(' | ', collect_list(case when not success then "
        "concat(coalesce(nullif(description, ''), expectation), ' observed ', observed) end)) "
        "from quality.gate_results where layer = 'bronze' "
        f"and (run_id = '{run_id}' or ({between})) "
        "group by table_name, partition_range, run_id"
    )
    latest: dict[tuple[str, str], tuple[Any, ...]] = {}
    for table, batch, _run, gated_at, expectations, blocking, errors, failing in sorted(
        rows, key=lambda r: str(r[3])
    ):  # a batch quarantined, then delivered again and admitted, shows its last verdict
        dataset, batch_id = str(table).rsplit(".", 1)[-1], str(batch).removeprefix("batch_id=")
        verdict = "not evaluated" if errors else "quarantined" if blocking else "admitted"
        latest[(dataset, batch_id)] = (
            verdict,
            dataset,
            batch_id,
            gated_at,
            expectations,
            blocking,
            failing or "",
        )
    verdicts = list(latest.values())
    order = {"quarantined": 0, "not evaluated": 1, "admitted": 2}
    # Quarantined first, then newest: the rows an analyst has to act on lead.
    verdicts.sort(key=lambda v: str(v[3]), reverse=True)
    verdicts.sort(key=lambda v: order[v[0]])
    totals = {state: sum(v[0] == state for v in verdicts) for state in order}
    return Section(
        source="quality.gate_results",
        columns=(
            "verdict",
            "dataset",
            "batch_id",
            "gated at",
            "expectations",
            "failed critical",
            "failing checks (observed)",
        ),
        rows=verdicts[:SAMPLE_ROWS],
        totals={"total": len(verdicts), **totals},
        note=f"since run {previous_run} started" if previous_run else "every delivery so far",
    )


def _batches(query: QueryFn) -> Section:
    columns = (
        "batch_id",
        "dataset",
        "source",
        "ingested_at",
        "record_count",
        "rejected_count",
        "byte_size",
        "sha256",
    )
    rows = query(
        f"select {', '.join(columns)} from bronze.batches "
        f"order by ingested_at desc, batch_id limit {SAMPLE_ROWS}"
    )
    total = int(query("select count(*) from bronze.batches")[0][0])
    shortened = [(*r[:7], str(r[7])[:12]) for r in rows]  # a hash prefix identifies a batch
    return Section(
        source="bronze.batches", columns=columns, rows=shortened, totals={"total": total}
    )


def _history(query: QueryFn, run_id: str, gates: list[LayerGate]) -> Section:
    """Each layer's outcomes as recorded in quality.gate_results next to the gate file."""
    recorded = {
        str(layer): (int(n), int(blocking))
        for layer, n, blocking in query(
            "select layer, count(*), sum(case when blocks then 1 else 0 end) "
            f"from quality.gate_results where run_id = '{run_id}' group by layer"
        )
    }
    rows = []
    for g in gates:
        if g.status in ("not run", "build failed") and g.layer not in recorded:
            continue
        n, blocking = recorded.get(g.layer, (0, 0))
        agrees = (n, blocking) == (g.expectations, g.failed_critical)
        rows.append((g.layer, g.expectations, n, blocking, "yes" if agrees else "NO"))
    return Section(
        source="quality.gate_results",
        columns=("layer", "outcomes in gate file", "rows recorded", "blocking recorded", "agrees"),
        rows=rows,
    )


def _versions(query: QueryFn, schema: str, run_id: str) -> Section:
    """Which run's build the relations read at report time belong to (from `_v=<run>`)."""
    rows = []
    for relation in (f"{schema}.quarantine", f"{schema}.restatements", "silver.prices_daily"):
        try:
            match = re.search(r"_v=([^/]+)", _location(query, relation))
        except EngineUnavailable:
            raise
        except Exception as exc:  # e.g. nothing published yet: say so on this row only
            rows.append((relation, f"not available: {_reason(exc)}", "no"))
            continue
        version = match.group(1) if match else "?"
        rows.append((relation, version, "yes" if version == run_id else "no"))
    columns = ("relation", "built by run", "this run's build")
    return Section(source="catalog", columns=columns, rows=rows)


def _location(query: QueryFn, relation: str) -> str:
    for name, value, *_ in query(f"describe table extended {relation}"):
        if name == "Location":
            return str(value)
    return ""


# --- summaries and the index -------------------------------------------------------------------


def summarize(data: RunData) -> dict[str, Any]:
    """The small record the index is built from (one file per run)."""
    return {
        "summary_version": SUMMARY_VERSION,
        "run_id": data.run_id,
        "started_at": _started_at(data.run_id),
        "generated_at": data.generated_at,
        "status": data.status,
        "blocked_layer": data.blocked_layer,
        "layers": {
            g.layer: {
                "status": g.status,
                "expectations": g.expectations,
                "failed_critical": g.failed_critical,
                "failed_warning": g.failed_warning,
            }
            for g in data.gates
        },
        "published": sorted({p.layer for p in data.publications if not p.rollback_of}),
        "metrics": data.metrics,
        "page": f"runs/{data.run_id}.html",
    }


def _started_at(run_id: str) -> str:
    """Run ids start with their UTC start time (`20261128T180611Z-…`)."""
    try:
        return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ""


def load_summaries(directory: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every run's summary, newest run first; names of files that could not be read."""
    summaries, unreadable = [], []
    for path in directory.glob("*.json"):
        try:
            summary = dict(json.loads(path.read_text()))
            summary["run_id"] = str(summary["run_id"])
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(path.name)
            continue
        summaries.append(summary)
    summaries.sort(
        key=lambda s: (s.get("started_at") or "", s.get("generated_at") or "", s["run_id"]),
        reverse=True,
    )
    return summaries, sorted(unreadable)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    run_id: str
    label: str  # when the run started, for the axis
    value: int
    status: str  # the run's status: blocked runs stand out


@dataclass(frozen=True)
class Chart:
    title: str
    points: list[Point]
    top: int  # the value at the top of the y axis
    width: int = 360
    height: int = 124
    left: int = 56
    right: int = 12
    top_pad: int = 12
    bottom_pad: int = 24

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def baseline(self) -> float:
        return float(self.height - self.bottom_pad)


TRENDS = (
    ("expectations", "Expectations evaluated"),
    ("failed_critical", "Failed critical"),
    ("failed_warning", "Failed warnings"),
    ("bronze_quarantined_batches", "Bronze batches quarantined"),
    ("quarantined_rows", "Quarantined rows"),
    ("silver_prices_rows", "Published silver prices rows"),
)


def trend_charts(summaries: Sequence[dict[str, Any]]) -> list[Chart]:
    """One chart per key metric, oldest run on the left; a run without the value is skipped."""
    runs = list(reversed(summaries[:TREND_RUNS]))
    return [_chart(title, key, runs) for key, title in TRENDS]


def _chart(title: str, key: str, runs: list[dict[str, Any]]) -> Chart:
    frame = Chart(title=title, points=[], top=0)
    known = [
        (i, s, int(v))
        for i, s in enumerate(runs)
        if isinstance(v := (s.get("metrics") or {}).get(key), int | float)
    ]
    top = max([v for *_, v in known] + [1])  # counts start at zero: no exaggerated dips
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.baseline - frame.top_pad
    step = plot_w / max(len(runs) - 1, 1)
    points = [
        Point(
            x=frame.left + (i * step if len(runs) > 1 else plot_w / 2),
            y=frame.top_pad + plot_h * (1 - v / top),
            run_id=str(s["run_id"]),
            label=str(s.get("started_at") or s["run_id"])[:16],
            value=v,
            status=str(s.get("status") or "unknown").replace(" ", "-"),
        )
        for i, s, v in known
    ]
    return Chart(title=title, points=points, top=top)


# --- rendering ---------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, sort_keys=isinstance(value, dict))
    return str(value)


def _cut(value: Any, limit: int = VALUE_LIMIT) -> str:
    text = _fmt(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(iso: str) -> str:
    """An ISO timestamp as analysts read it (UTC, to the second)."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError):
        return str(iso)


def _num(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _rows(n: int | None, noun: str = "row") -> str:
    if n is None:
        return f"an unknown number of {noun}s"
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _observed(outcome: dict[str, Any]) -> list[tuple[str, str]]:
    observed = dict(outcome.get("observed") or {})
    keys = [k for k in OBSERVED_FIRST if k in observed]
    keys += [k for k in observed if k not in keys and k not in OBSERVED_NOISE]
    return [(k, _fmt(observed[k])) for k in keys if observed[k] not in (None, [], {})]


def _kwargs(outcome: dict[str, Any]) -> str:
    kwargs = dict(outcome.get("kwargs") or {})
    return ", ".join(f"{k}={_fmt(v)}" for k, v in kwargs.items())


FILTERS: dict[str, Callable[..., Any]] = {
    "fmt": _fmt,
    "cut": _cut,
    "num": _num,
    "rows": _rows,
    "when": _when,
    "observed": _observed,
    "kwargs": _kwargs,
}


@functools.cache  # templates compile once per process
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,  # every value comes from data
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(css=markupsafe.Markup(CSS), total=_total)
    return env


def render_run(data: RunData) -> str:
    template = _environment().get_template("run.html")
    return template.render(
        d=data, s=data.sections, exchange=CALENDAR_EXCHANGE, index_href="../index.html"
    )


def render_index(
    summaries: list[dict[str, Any]],
    unreadable: Iterable[str],
    serving: dict[str, str],
    docs_href: str,
) -> str:
    template = _environment().get_template("index.html")
    return template.render(
        runs=[_index_row(s) for s in summaries],
        charts=trend_charts(summaries),
        trend_runs=TREND_RUNS,
        unreadable=list(unreadable),
        serving=serving,
        docs_href=docs_href,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def _index_row(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary with every field the index reads (older or partial summaries still render)."""
    layers = summary.get("layers") or {}
    return {
        "run_id": summary["run_id"],
        "page": str(summary.get("page") or f"runs/{summary['run_id']}.html"),
        "when": summary.get("started_at") or summary.get("generated_at") or "",
        "status": str(summary.get("status") or "unknown"),
        "layers": {
            layer: str((layers.get(layer) or {}).get("status") or "not run") for layer in LAYERS
        },
        "metrics": {key: (summary.get("metrics") or {}).get(key) for key, _ in TRENDS},
    }


def _write(path: Path, text: str) -> None:
    """Write via a temporary file so a reader never sees half a page."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc}") from exc


# --- templates (kept here so the module ships as one file; no CDN, no JS) ----------------------

CSS = """
:root { --pass:#1a7f37; --warn:#9a6700; --block:#cf222e; --muted:#57606a; --line:#d0d7de;
  --bg:#f6f8fa; --ink:#1f2328; --link:#0969da; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
  color:var(--ink); background:var(--bg); }
a { color:var(--link); }
header.top { background:#24292f; color:#fff; padding:14px 28px; }
header.top a { color:#9ecbff; }
header.top h1 { margin:0; font-size:20px; font-weight:600; }
header.top .sub { color:#c9d1d9; font-size:13px; }
main { max-width:1200px; margin:0 auto; padding:18px 28px 40px; }
section.card { background:#fff; border:1px solid var(--line); border-radius:8px;
  padding:14px 18px; margin:0 0 16px; }
h2 { font-size:17px; margin:0 0 10px; }
h3 { font-size:14px; margin:14px 0 6px; }
table { border-collapse:collapse; width:100%; margin:4px 0 8px; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:var(--bg); font-weight:600; white-space:nowrap; }
.num { text-align:right; font-variant-numeric:tabular-nums; }
.code { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12px;
  overflow-wrap:anywhere; }
.long { overflow-wrap:anywhere; min-width:10em; }
.scroll { overflow-x:auto; }
.nowrap { white-space:nowrap; }
.badge { display:inline-block; padding:1px 9px; border-radius:999px; font-size:12px;
  font-weight:600; color:#fff; background:var(--muted); white-space:nowrap;
  vertical-align:middle; }
.badge.pass { background:var(--pass); } .badge.warnings { background:var(--warn); }
.badge.blocked, .badge.unreadable, .badge.build-failed { background:var(--block); }
.muted { color:var(--muted); } .error { color:var(--block); }
.na { color:var(--muted); font-style:italic; }
.alert { border-left:4px solid var(--block); background:#ffebe9; padding:8px 12px; }
.kpis { display:flex; flex-wrap:wrap; gap:12px; margin:6px 0 2px; }
.kpi { border:1px solid var(--line); border-radius:6px; padding:6px 12px; min-width:150px; }
.kpi b { display:block; font-size:20px; font-variant-numeric:tabular-nums; }
dl.obs { margin:0; }
dl.obs dt { font-weight:600; }
dl.obs dd { margin:0 0 4px; font-family:ui-monospace,Menlo,monospace; font-size:12px;
  word-break:break-all; }
tr.critical td:first-child { border-left:3px solid var(--block); }
tr.warning td:first-child { border-left:3px solid var(--warn); }
.charts { display:grid; grid-template-columns:repeat(auto-fill,minmax(360px,1fr)); gap:12px; }
.chart { border:1px solid var(--line); border-radius:6px; padding:6px 8px; }
.chart h3 { margin:0 0 2px; }
svg .line { fill:none; stroke:var(--link); stroke-width:1.8; }
svg .dot { fill:var(--link); }
svg .dot.blocked, svg .dot.build-failed { fill:var(--block); }
svg .axis { stroke:var(--line); }
svg text { font-size:10px; fill:var(--muted); }
nav.links a { margin-right:14px; }
tr.has-detail td { border-bottom:none; }
tr.detail td { padding-top:0; }
details summary { cursor:pointer; color:var(--link); margin-top:6px; }
"""

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %}</title>
<style>{{ css }}</style></head>
<body>{% block body %}{% endblock %}</body></html>
"""

MACROS = """
{% macro badge(status) -%}
<span class="badge {{ status|replace(' ', '-') }}">{{ status }}</span>
{%- endmacro %}

{% macro unavailable(section) -%}
<p class="na">not available ({{ section.source }}): {{ section.error }}</p>
{%- endmacro %}

{% macro cell(v, numeric) -%}
{% set text = v|fmt %}
<td class="{{ 'num' if numeric else 'long' if text|length > 40 else '' }}"
 {%- if text|length > 60 %} title="{{ text|cut(4000) }}"{% endif %}>{{ v|cut }}</td>
{%- endmacro %}

{% macro rows_table(section, numeric=(), empty='no rows', detail=False) %}
{# detail: the last column (e.g. a raw record) gets a full-width row of its own #}
{% set shown = section.columns[:-1] if detail else section.columns %}
{% if section.error %}{{ unavailable(section) }}
{% elif not section.rows %}<p class="muted">{{ empty }} in {{ section.source }}.</p>
{% else %}
<div class="scroll"><table><thead><tr>
{% for c in shown %}
<th{% if loop.index0 in numeric %} class="num"{% endif %}>{{ c }}</th>
{% endfor %}
</tr></thead><tbody>
{% for row in section.rows %}
<tr{% if detail %} class="has-detail"{% endif %}>
{% for v in row[:shown|length] %}{{ cell(v, loop.index0 in numeric) }}{% endfor %}</tr>
{% if detail %}
<tr class="detail"><td colspan="{{ shown|length }}"><span class="muted">
{{- section.columns[-1] }}</span> <span class="code">{{ row[-1]|cut(1000) }}</span></td></tr>
{% endif %}
{% endfor %}
</tbody></table></div>
{% endif %}
{% endmacro %}

{% macro chart(c) %}
<div class="chart"><h3>{{ c.title }}</h3>
<svg role="img" aria-label="{{ c.title }}" width="{{ c.width }}" height="{{ c.height }}"
 viewBox="0 0 {{ c.width }} {{ c.height }}" xmlns="http://www.w3.org/2000/svg">
<line class="axis" x1="{{ c.left }}" y1="{{ c.top_pad }}" x2="{{ c.left }}"
 y2="{{ c.baseline }}"/>
<line class="axis" x1="{{ c.left }}" y1="{{ c.baseline }}" x2="{{ c.width - c.right }}"
 y2="{{ c.baseline }}"/>
<text x="{{ c.left - 4 }}" y="{{ c.top_pad + 4 }}" text-anchor="end">
{{- '{:,}'.format(c.top) }}</text>
<text x="{{ c.left - 4 }}" y="{{ c.baseline }}" text-anchor="end">0</text>
{% if c.points %}
<polyline class="line" points="{{ c.polyline }}"/>
{% for p in c.points %}
<circle class="dot {{ p.status }}" cx="{{ '%.1f'|format(p.x) }}"
 cy="{{ '%.1f'|format(p.y) }}" r="3">
<title>{{ p.run_id }} ({{ p.status }}): {{ '{:,}'.format(p.value) }}</title></circle>
{% endfor %}
{% if c.points|length == 1 %}
<text x="{{ '%.1f'|format(c.points[0].x) }}" y="{{ c.height - 6 }}" text-anchor="middle">
{{- c.points[0].label }}</text>
{% else %}
<text x="{{ c.left }}" y="{{ c.height - 6 }}">{{ c.points[0].label }}</text>
<text x="{{ c.width - c.right }}" y="{{ c.height - 6 }}" text-anchor="end">
{{- c.points[-1].label }}</text>
{% endif %}
{% else %}
<text x="{{ c.left + 8 }}" y="{{ c.top_pad + 30 }}">no data</text>
{% endif %}
</svg></div>
{% endmacro %}
"""

RUN = """{% extends "base.html" %}
{% from "macros.html" import badge, rows_table, unavailable %}
{% block title %}MarketPulse run {{ d.run_id }}{% endblock %}
{% block body %}
<header class="top"><h1>MarketPulse trust report · run {{ d.run_id }} {{ badge(d.status) }}</h1>
<div class="sub">generated {{ d.generated_at }} · tables as read at report time ·
 <a href="{{ index_href }}">all runs</a></div></header>
<main>
<section class="card" id="summary"><h2>Summary</h2>
{% if d.blocked_layer %}
<p class="alert"><b>Promotion blocked at {{ d.blocked_layer }}.</b> A critical expectation
 failed; this run left the published tables unchanged.</p>
{% endif %}
<div class="kpis">
{% for g in d.gates %}
<div class="kpi">{{ g.layer }} gate {{ badge(g.status) }}
{% if g.status in ('not run', 'build failed') %}<b>—</b><span class="muted">no expectations
 evaluated</span>
{% else %}<b>{{ g.expectations }}</b><span class="muted">{{ g.failed_critical }} critical
 failed · {{ g.failed_warning }} warnings</span>{% endif %}</div>
{% endfor %}
<div class="kpi">bronze batches quarantined
<b>{{ d.metrics.bronze_quarantined_batches|num }}</b>
<span class="muted">by the bronze gate, {{ s.admission.note or 'this run' }}</span></div>
<div class="kpi">quarantined rows<b>{{ d.metrics.quarantined_rows|num }}</b>
<span class="muted">{{ d.quarantine_view }}.quarantine</span></div>
<div class="kpi">published silver prices<b>{{ d.metrics.silver_prices_rows|num }}</b>
<span class="muted">rows in silver.prices_daily</span></div>
</div>
<h3>Publication</h3>
{% if d.publications %}
<table><thead><tr><th>layer</th><th>published at</th><th>tables → versioned locations</th>
<th>served now</th></tr></thead><tbody>
{% for p in d.publications %}
<tr><td>{{ p.layer }}{% if p.rollback_of %}
 <span class="muted">(re-published by a rollback, replacing run {{ p.rollback_of }})</span>
{%- endif %}</td>
<td class="nowrap">{{ p.published_at|when }}</td>
<td><details><summary>{{ p.tables|length|rows('table') }}</summary>
<div class="code">{% for t, loc in p.tables.items() %}{{ t }} → {{ loc }}<br>{% endfor %}</div>
</details></td>
<td>{{ p.served_now|fmt }}</td></tr>
{% endfor %}
</tbody></table>
{% else %}<p class="muted">this run published nothing.</p>{% endif %}
<p>Serving now: {% for layer, run in d.serving.items() %}{{ layer }} ← run
 <span class="code">{{ run }}</span>{% if not loop.last %} · {% endif %}
{% else %}<span class="muted">nothing published yet</span>{% endfor %}</p>
<nav class="links">{% for label, href in d.links.items() %}<a href="{{ href }}">{{ label }}</a>
{% else %}<span class="muted">no run files found</span>{% endfor %}</nav>
</section>

{% for g in d.gates %}
<section class="card gate" id="gate-{{ g.layer }}">
<h2>Gate: {{ g.layer }} {{ badge(g.status) }}</h2>
{% if g.status in ('not run', 'build failed') %}
<p class="muted">no gate_{{ g.layer }}.json for this run
{%- if g.status == 'build failed' %}: dbt could not build the {{ g.layer }} audit relations
 ({{ g.dbt.errors }} error{{ "s" if g.dbt.errors != 1 }}; see its dbt run_results.json)
{%- elif d.blocked_layer %} (promotion stopped at {{ d.blocked_layer }}){% endif %}.</p>
{% elif g.status == 'unreadable' %}
<p class="error">gate file unreadable: {{ g.error }}</p>
{% else %}
<p>{{ g.expectations }} expectations evaluated: {{ g.failed_critical }} critical failed,
 {{ g.failed_warning }} warnings.
{% if g.dbt.counts %} dbt build:
{% for kind, counts in g.dbt.counts.items() %} {{ kind }}s
{% for st, n in counts.items() %} {{ n }} {{ st }}{% if not loop.last %},{% endif %}
{% endfor %}{% if not loop.last %};{% endif %}
{% endfor %}
{% if g.dbt.elapsed_s %} in {{ '%.0f'|format(g.dbt.elapsed_s) }} s{% endif %}.
{% endif %}
{% if g.json_href %} <a href="{{ g.json_href }}">raw gate JSON</a>{% endif %}</p>
<h3>Per table</h3>
<table><thead><tr><th>table</th><th>status</th><th class="num">expectations</th>
<th class="num">failed critical</th><th class="num">warnings</th></tr></thead><tbody>
{% for t in g.tables %}
<tr><td class="code">{{ t.table }}</td><td>{{ badge(t.status) }}</td>
<td class="num">{{ t.expectations }}</td><td class="num">{{ t.failed_critical }}</td>
<td class="num">{{ t.failed_warning }}</td></tr>
{% endfor %}
</tbody></table>
{% if g.failing %}
<h3>Failing expectations</h3>
<table class="failing"><thead><tr><th>severity</th><th>table</th><th>expectation</th>
<th>observed / error</th></tr></thead><tbody>
{% for o in g.failing %}
<tr class="{{ 'critical' if o.severity == 'critical' else 'warning' }}">
<td>{{ o.severity }}</td><td class="code nowrap">{{ o.table }}</td>
<td class="long"><b>{{ o.description or o.expectation }}</b><br>
<span class="code muted">{{ o.suite }}: {{ o.expectation }}
{%- if o.kwargs %} ({{ o|kwargs|cut }}){% endif %}</span></td>
<td class="long"><dl class="obs">{% for k, v in o|observed %}<dt>{{ k }}</dt>
<dd{% if v|length > 60 %} title="{{ v|cut(4000) }}"{% endif %}>{{ v|cut }}</dd>
{% endfor %}
{% if o.error %}<dt class="error">error</dt><dd class="error">{{ o.error|cut }}</dd>{% endif %}
{% if not o.error and not o|observed %}<span class="muted">—</span>{% endif %}</dl></td></tr>
{% endfor %}
</tbody></table>
{% else %}<p class="muted">no failing expectations.</p>{% endif %}
<details><summary>all {{ g.expectations }} expectations</summary>
<table><thead><tr><th>ok</th><th>severity</th><th>table</th><th>expectation</th></tr></thead>
<tbody>
{% for o in g.outcomes %}
<tr><td>{{ '✔' if o.success else '✘' }}</td><td>{{ o.severity }}</td>
<td class="code">{{ o.table }}</td><td>{{ o.description or o.expectation }}
{%- if o.kwargs %} <span class="code muted">({{ o|kwargs|cut(120) }})</span>{% endif %}
</td></tr>
{% endfor %}
</tbody></table></details>
{% endif %}
</section>
{% endfor %}

<section class="card" id="admission"><h2>Bronze admission</h2>
{% set ad = s.admission %}
{% if ad.error %}{{ unavailable(ad) }}{% else %}
<p>The bronze gate's verdicts on deliveries, {{ ad.note }}:
 {{ total(ad, 'admitted')|num }} admitted, {{ total(ad, 'quarantined')|num }} quarantined
 (kept on disk, never registered; fix and deliver again),
 {{ total(ad, 'not evaluated')|num }} not evaluated (still pending)
{%- if total(ad) > ad.rows|length %}; quarantined first, then newest{% endif %}.</p>
{{ rows_table(ad, numeric=(4, 5), empty='no delivery gated') }}
{% endif %}
</section>

<section class="card" id="quarantine"><h2>Quarantine</h2>
{% set qc = s.quarantine_counts %}
{% if qc.error %}{{ unavailable(qc) }}{% else %}
<p><span class="code">{{ qc.source }}</span> holds {{ total(qc)|rows }},
 {{ total(qc, 'unresolved')|num }} unresolved when logged
{%- if d.quarantine_view.endswith('_audit') %}
 (the log's months this run's audit build appended to, which its silver gate judged; not published)
{%- else %} (published){% endif %}.</p>
{% endif %}
{% if total(qc) %}
<h3>By dataset and rule id</h3>
{{ rows_table(qc, numeric=(2, 3)) }}
<h3>Sample rows <span class="muted">({{ s.quarantine_sample.note or 'newest' }})</span></h3>
{{ rows_table(s.quarantine_sample, numeric=(3,), detail=True) }}
{% endif %}
</section>

<section class="card" id="coverage"><h2>Calendar coverage</h2>
{% set cv = s.coverage %}
{% if cv.error %}{{ unavailable(cv) }}{% else %}
<p>Expected rows = {{ exchange }} sessions &times; tickers, each ticker from its first to its last
 published bar. {{ total(cv, 'present')|num }} of {{ total(cv, 'expected')|num }} expected
 rows present; {{ total(cv, 'off_calendar')|num }} published rows on a day that is not a
 session.</p>
{{ rows_table(cv, numeric=(1, 2, 3, 4, 5), empty='no published prices') }}
{% endif %}
{% if not cv.error %}
<h3>First missing (ticker, session) pairs</h3>
{% if s.missing.error %}{{ unavailable(s.missing) }}
{% elif not s.missing.rows %}<p class="muted">none missing.</p>
{% else %}{{ rows_table(s.missing) }}{% endif %}
{% endif %}
</section>

<section class="card" id="restatements"><h2>Restatements</h2>
{% set rs = s.restatements %}
{% if rs.error %}{{ unavailable(rs) }}{% else %}
<p><span class="code">{{ rs.source }}</span> holds {{ total(rs)|rows('restated value') }}
{%- if rs.rows %}; latest:{% else %}.{% endif %}</p>
{% if rs.rows %}{{ rows_table(rs) }}{% endif %}
{% endif %}
</section>

<section class="card" id="held"><h2>Held tickers</h2>
{% set hd = s.held %}
{% if hd.error %}{{ unavailable(hd) }}
{% elif hd.absent %}<p>none held
 <span class="muted">({{ hd.source }} does not exist in this lake)</span>.</p>
{% elif not hd.rows %}<p>none held <span class="muted">({{ hd.source }} is empty)</span>.</p>
{% else %}<p>{{ total(hd)|rows }} held back in <span class="code">{{ hd.source }}</span>
{%- if total(hd) > hd.rows|length %} (first {{ hd.rows|length }} shown){% endif %}.</p>
{{ rows_table(hd) }}{% endif %}
</section>

<section class="card" id="provenance"><h2>Provenance</h2>
<h3>Versions read at report time</h3>
{{ rows_table(s.versions) }}
<h3>Gate results on record</h3>
{{ rows_table(s.history, numeric=(1, 2, 3)) }}
<h3>Latest bronze deliveries
{% if not s.batches.error %} <span class="muted">({{ total(s.batches)|fmt }} batches in
 total)</span>{% endif %}</h3>
{{ rows_table(s.batches, numeric=(4, 5, 6)) }}
</section>
</main>
{% endblock %}
"""

INDEX = """{% extends "base.html" %}
{% from "macros.html" import badge, chart %}
{% block title %}MarketPulse trust report{% endblock %}
{% block body %}
<header class="top"><h1>MarketPulse trust report</h1>
<div class="sub">{{ runs|length|rows('run') }} · generated {{ generated_at }}
{% if docs_href %} · <a href="{{ docs_href }}">GX Data Docs</a>{% endif %}</div></header>
<main>
<section class="card" id="serving"><h2>Published now</h2>
<p>{% for layer, run in serving.items() %}{{ layer }} ← run
 <span class="code">{{ run }}</span>{% if not loop.last %} · {% endif %}
{% else %}<span class="muted">nothing published yet</span>{% endfor %}</p>
</section>
<section class="card" id="trends"><h2>Trends
 <span class="muted">(one point per run, oldest left; newest {{ trend_runs }} runs)</span></h2>
<div class="charts">{% for c in charts %}{{ chart(c) }}{% endfor %}</div>
</section>
<section class="card" id="runs"><h2>Runs</h2>
{% if unreadable %}
<p class="error">unreadable summaries skipped: {{ unreadable|join(', ') }}</p>
{% endif %}
{% if runs %}
<table><thead><tr><th>run</th><th>started (UTC)</th><th>status</th>
{% for layer in runs[0].layers %}<th>{{ layer }}</th>{% endfor %}
<th class="num">expectations</th><th class="num">failed critical</th>
<th class="num">warnings</th><th class="num">bronze batches quarantined</th>
<th class="num">quarantined rows</th>
<th class="num">silver prices rows</th></tr></thead><tbody>
{% for r in runs %}
<tr><td class="code"><a href="{{ r.page }}">{{ r.run_id }}</a></td><td>{{ r.when }}</td>
<td>{{ badge(r.status) }}</td>
{% for layer, status in r.layers.items() %}<td>{{ badge(status) }}</td>{% endfor %}
{% for key in ('expectations', 'failed_critical', 'failed_warning',
 'bronze_quarantined_batches', 'quarantined_rows',
 'silver_prices_rows') %}<td class="num">{{ r.metrics[key]|num }}</td>{% endfor %}
</tr>
{% endfor %}
</tbody></table>
{% else %}<p class="muted">no run has a report yet.</p>{% endif %}
</section>
</main>
{% endblock %}
"""

TEMPLATES = {"base.html": BASE, "macros.html": MACROS, "run.html": RUN, "index.html": INDEX}
