"""The core object: ingest to bronze, then build → gate → publish silver, then gold."""

from __future__ import annotations

import ctypes
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from marketpulse import history
from marketpulse.admission import admit
from marketpulse.config import AUDIT_SUFFIX, LAYERS, Settings
from marketpulse.engine import Engine, EngineClient, port_is_open, quote
from marketpulse.errors import (
    BatchQuarantined,
    BronzeFilesLost,
    BuildError,
    IngestError,
    LockHeld,
    engine_error_message,
)
from marketpulse.gates import ExpectationOutcome, Gate, GateResult, load_suites
from marketpulse.incremental import (
    NEWS_MODELS,
    RebuildWindow,
    gold_window,
    news_window,
    silver_window,
    suites_digest,
    transform_code,
)
from marketpulse.ingestion import calendar, catalog
from marketpulse.ingestion.bronze import (
    COMMITTED,
    QUARANTINED,
    BatchManifest,
    BronzeWriter,
    Rejection,
    WriteResult,
)
from marketpulse.ingestion.contracts import BATCH_RULES, CONTRACTS
from marketpulse.ingestion.s3 import S3BronzeWriter, S3Settings
from marketpulse.ingestion.simulator import SimulationConfig, simulate
from marketpulse.publish import (
    Publisher,
    PublishManifest,
    collect_garbage,
    lake_lock,
    publish_history,
)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PROGRESS_EVERY = 500_000  # records between two progress lines of one delivery


@dataclass
class BuildReport:
    run_id: str
    published: dict[str, PublishManifest] = field(default_factory=dict)
    gates: dict[str, GateResult] = field(default_factory=dict)
    blocked_layer: str | None = None
    # batches the bronze gate refused while this run registered what was pending
    quarantined: list[BatchManifest] = field(default_factory=list)
    # stage -> (started, finished), epoch seconds: the closing summary and the benchmark
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.time()
        try:
            yield
        finally:
            self.stages[name] = (started, time.time())

    @property
    def blocked(self) -> bool:
        return self.blocked_layer is not None


@dataclass(frozen=True)
class LayerBuild:
    """What `dbt build` made of a layer's audit relations."""

    tables: tuple[str, ...]  # the layer's table models
    partitioned: Mapping[str, str]  # table -> its (first) partition column
    sparse: tuple[str, ...]  # tables whose config says they may lose a month
    skipped: tuple[str, ...]  # tables dbt did not build because a test failed first
    checks: tuple[ExpectationOutcome, ...]  # dbt's data and unit tests


def read_layer_build(run_dir: Path, layer: str, exit_code: int) -> LayerBuild:
    """What a layer's `dbt build` made, from its artifacts in `run_dir`: the tables, how
    they are partitioned, and dbt's tests as gate outcomes. A model dbt could not build is
    a BuildError; one skipped because a unit test failed is a blocked build."""
    results_path = run_dir / "run_results.json"
    if not results_path.exists():
        raise BuildError(
            f"dbt build --select {layer} failed before running anything "
            f"(exit {exit_code}); see {run_dir / 'dbt.log'}"
        )
    results = json.loads(results_path.read_text())["results"]
    artifacts = json.loads((run_dir / "manifest.json").read_text())
    manifest = {**artifacts["nodes"], **artifacts.get("unit_tests", {})}
    checks = tuple(
        _test_outcome(layer, r, manifest)
        for r in results
        if r["unique_id"].startswith(("test.", "unit_test."))
    )
    # A model skipped because its unit test failed is a blocked build, not a crash.
    failed_models = [
        r
        for r in results
        if r["unique_id"].startswith("model.")
        and r["status"] != "success"
        and not (r["status"] == "skipped" and any(c.blocks for c in checks))
    ]
    if failed_models:
        names = "; ".join(
            f"{r['unique_id']} ({r['status']}: {engine_error_message(str(r.get('message')))})"
            for r in failed_models
        )
        raise BuildError(f"dbt could not build {layer}: {names}; see {run_dir / 'dbt.log'}")
    models = {
        manifest[r["unique_id"]]["alias"]: (manifest[r["unique_id"]]["config"], r["status"])
        for r in results
        if r["unique_id"].startswith("model.")
        and manifest[r["unique_id"]]["config"]["materialized"] == "table"
    }
    partition_by = {table: config.get("partition_by") for table, (config, _) in models.items()}
    return LayerBuild(
        tables=tuple(sorted(models)),
        partitioned={
            table: columns if isinstance(columns, str) else columns[0]
            for table, columns in partition_by.items()
            if columns
        },
        sparse=tuple(
            sorted(t for t, (c, _) in models.items() if c.get("meta", {}).get("sparse_months"))
        ),
        skipped=tuple(sorted(t for t, (_, status) in models.items() if status == "skipped")),
        checks=checks,
    )


def readers_of_carried(run_dir: Path, carried: Sequence[str]) -> list[str]:
    """The nodes a layer's `dbt build` ran that read a carried table (model names): it was
    not built, so its audit relation may be stale or gone. Empty when none does."""
    if not carried:
        return []
    artifacts = json.loads((run_dir / "manifest.json").read_text())
    carried_ids = {
        uid
        for uid, node in artifacts["nodes"].items()
        if node["resource_type"] == "model" and node["alias"] in carried
    }
    results = json.loads((run_dir / "run_results.json").read_text())["results"]
    ran = [r["unique_id"] for r in results]
    parents = artifacts.get("parent_map", {})
    return sorted(uid for uid in ran if carried_ids & set(parents.get(uid, ())))


def validated_ranges(
    client: EngineClient, layer: str, built: LayerBuild, window: RebuildWindow
) -> dict[str, str]:
    """What each audit table held when its gate validated it, by qualified audit name:
    "all" for a table built whole; for a partitioned one built in part, its partitions
    from the first on (the window's months; earlier ones for a table that rewrites more,
    like the sentiment signal; the months a log appends to), "<column>: none" if it has
    none; "not built" for a table dbt skipped."""
    ranges = {}
    for table in built.tables:
        audit = f"{layer}{AUDIT_SUFFIX}.{table}"
        column = built.partitioned.get(table)
        if table in built.skipped:
            ranges[audit] = "not built"
        elif column is None or window.builds_whole(f"{layer}.{table}"):
            ranges[audit] = "all"
        else:
            specs = client.query(f"show partitions {audit}")
            first = min((str(s).split("/")[0].split("=", 1)[1] for (s,) in specs), default=None)
            ranges[audit] = f"{column}: none" if first is None else f"{column} >= {first}"
    return ranges


def _test_outcome(layer: str, result: dict[str, Any], nodes: dict[str, Any]) -> ExpectationOutcome:
    node = nodes[result["unique_id"]]
    status = result["status"]
    warn_only = status == "warn" or str(node["config"].get("severity", "")).lower() == "warn"
    attached = nodes.get(str(node.get("attached_node")))  # the model a data test is on
    return ExpectationOutcome(
        suite=f"dbt:{layer}",
        table=f"{layer}{AUDIT_SUFFIX}.{attached['alias']}" if attached else "",
        expectation=f"dbt {node['resource_type'].replace('_', ' ')} {node['name']}",
        kwargs={},
        severity="warning" if warn_only else "critical",
        success=status == "pass",
        observed={"failures": result.get("failures")},
        error="" if status == "pass" else str(result.get("message") or status),
    )


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


# Looked up once here: the child of a fork must not load libraries (other threads may hold
# the loader's locks).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent(parent: int) -> None:
    """Runs in the dbt child: if the CLI is killed, dbt gets SIGTERM (Linux), so a killed run
    does not leave a dbt starting new statements. (A statement already sent keeps running on
    the engine; `promote` refuses audit tables a foreign run re-pointed.)"""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)


def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def counted(
    records: Iterable[Mapping[str, Any]],
    label: str,
    say: Callable[[str], None],
    every: int = PROGRESS_EVERY,
) -> Iterator[Mapping[str, Any]]:
    """The records, unchanged, with a progress line every `every` of them: a large delivery
    (a decade of bars, a million articles to score) shows that it moves and how fast."""
    started = time.monotonic()
    for number, record in enumerate(records, start=1):
        if number % every == 0:
            rate = number / max(time.monotonic() - started, 1e-9)
            say(f"{label}: {number:,} records so far ({rate:,.0f}/s)")
        yield record


class Pipeline:
    def __init__(self, settings: Settings, progress: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.lake = settings.lake
        self.progress = progress
        self._client: EngineClient | None = None
        self.writer: BronzeWriter | S3BronzeWriter = (
            S3BronzeWriter(S3Settings.from_env(), progress=progress)
            if settings.raw_bucket
            else BronzeWriter(self.lake.raw)
        )

    def client(self) -> EngineClient:
        """One Thrift session per pipeline, opened on first use."""
        if self._client is None:
            self._client = EngineClient(self.settings)
        return self._client

    # --- ingestion -------------------------------------------------------------------------
    def ingest(
        self,
        dataset: str,
        source: str,
        records: Iterable[Mapping[str, Any]],
        *,
        rejections: Sequence[Rejection] = (),
        original: Path | None = None,
        register: bool = True,
    ) -> WriteResult:
        result = self.writer.write_records(
            CONTRACTS[dataset],
            source,
            counted(records, f"bronze: {dataset}", self.progress),
            rejections=rejections,
            original=original,
        )
        m = result.manifest
        state = "landed" if result.is_new else "already landed (no-op)"
        self.progress(
            f"bronze: {dataset} batch {m.batch_id} {state}: {m.record_count} records"
            + (f", {m.rejected_count} unreadable lines" if m.rejected_count else "")
            + f", {m.byte_size} bytes, sha256 {m.sha256[:12]}"
        )
        if m.status == QUARANTINED:
            raise self._quarantined(m)
        if register:
            for gated_out in self._register_or_defer():
                if gated_out.batch_id == m.batch_id:
                    raise self._quarantined(gated_out)
        return result

    def _quarantined(self, m: BatchManifest) -> BatchQuarantined:
        return BatchQuarantined(
            m.dataset,
            m.batch_id,
            f"{self.settings.raw_root}/{m.dataset}/{m.partition_path}",
            m.reason or "",
        )

    def ingest_simulated(self, config: SimulationConfig | None = None) -> list[WriteResult]:
        """Land the simulator's deliveries (the default data); registered once at the end."""
        config = config or SimulationConfig()
        results, quarantined = [], []
        deliveries = list(simulate(config))
        for number, delivery in enumerate(deliveries, start=1):
            self.progress(f"[{number}/{len(deliveries)}] {delivery.description}")
            try:
                results.append(
                    self.ingest(
                        delivery.dataset,
                        delivery.source,
                        delivery.records,
                        rejections=delivery.rejections,
                        register=False,
                    )
                )
            except BatchQuarantined as exc:
                quarantined.append(exc)  # keep landing the rest; report at the end
        landed = {r.manifest.batch_id for r in results}
        quarantined += [
            self._quarantined(m) for m in self._register_or_defer() if m.batch_id in landed
        ]
        if quarantined:
            raise quarantined[0]
        return results

    def release(
        self,
        rule_id: str,
        reason: str,
        by: str,
        *,
        ticker: str | None = None,
        on: date | None = None,
        batch_id: str | None = None,
    ) -> WriteResult:
        """Record an operator's waiver as data: audited in bronze, applied by the next build.
        A key-level rule is released for a ticker and session, a batch-level one for a
        delivery."""
        if not reason.strip():
            raise IngestError("a release needs a reason: it is kept for audit")
        if rule_id in BATCH_RULES:
            if not batch_id or ticker or on:
                raise IngestError(f"{rule_id} is waived for a delivery: name it with --batch only")
            catalog.ensure_tables(self.client(), self.settings.raw_root)  # a fresh lake
            registered = f"select 1 from bronze.batches where batch_id = {quote(batch_id)}"
            if not self.client().query(registered):
                raise IngestError(
                    f"no registered bronze batch {batch_id}: the batch ids a gate blocked on "
                    "are in `marketpulse build`'s output and quality.gate_results"
                )
            key = {"released_batch_id": batch_id}
        else:
            if batch_id or not ticker or on is None:
                raise IngestError(
                    f"{rule_id} is waived for a key: name it with --ticker and --date"
                )
            key = {"ticker": ticker.upper(), "trade_date": on.isoformat()}
        record = {
            "line_number": 1,
            **key,
            "rule_id": rule_id,
            "reason": reason.strip(),
            "released_by": by,
        }
        return self.ingest("operator_releases", "operator", [record])

    def register_pending(self, run_id: str | None = None) -> list[BatchManifest]:
        """Gate and register every committed batch not yet in the catalog (also after a
        crash); a batch failing its bronze suite is quarantined instead. The verdicts are
        recorded under `run_id` (a build's), or a run of their own."""
        with lake_lock(self.lake):  # two registrations at once would duplicate batch rows
            client = self.client()
            catalog.ensure_tables(client, self.settings.raw_root)
            known = dict(client.query("select batch_id, dataset from bronze.batches"))
            # One listing per dataset; only the unregistered batches' manifests are read.
            scans = {dataset: self.writer.scan(dataset, skip=known) for dataset in CONTRACTS}
            with_data = set().union(*(scan.with_data for scan in scans.values()))
            lost = sorted(f"{d} {b}" for b, d in known.items() if b not in with_data)
            if lost:
                raise BronzeFilesLost(self.settings.raw_root, lost)
            pending = {
                dataset: [m for m in scan.manifests if m.status == COMMITTED]
                for dataset, scan in scans.items()
            }
            return admit(
                client,
                Gate(self.settings, self.progress),
                self.writer,
                {dataset: batches for dataset, batches in pending.items() if batches},
                self.settings.raw_root,
                run_id or new_run_id(),
                self.progress,
            )

    def _register_or_defer(self) -> list[BatchManifest]:
        try:
            return self.register_pending()
        except LockHeld as exc:
            self.progress(
                f"bronze: landed; not registered yet because another run holds the lake lock "
                f"({exc.holder}); the next `marketpulse build` registers it"
            )
            return []

    def ensure_calendar(self) -> None:
        """Land the sessions of every year from the price data's first to today's (no-op if
        known); the caller registers it. The published silver version's calendar covers the
        batches it read, so only the other price batches are scanned."""
        client = self.client()
        published = publish_history(self.lake, "silver")
        read: set[str] = set()
        if published and "silver.trading_sessions" in published[-1].tables:
            read = set(published[-1].inputs.get("bronze_batches", []))
        spans = []
        if read:
            spans += client.query(
                "select cast(min(session_date) as string), cast(max(session_date) as string) "
                "from silver.trading_sessions"
            )
        if not spans or None in spans[0]:  # no calendar read yet: scan every batch
            read = set()
        unread = [
            batch_id
            for (batch_id,) in client.query(
                "select batch_id from bronze.batches where dataset = 'prices_daily'"
            )
            if batch_id not in read
        ]
        if unread:
            # Bars dated more than a year after their delivery are quarantined anyway; they
            # must not stretch the calendar (a sentinel like 9999-12-31 is beyond
            # exchange_calendars).
            spans += client.query(
                "select cast(min(d) as string), cast(max(d) as string) from ("
                "select cast(trim(p.trade_date) as date) as d, b.ingested_at "
                "from bronze.prices_daily as p inner join bronze.batches as b "
                "on p.batch_id = b.batch_id "
                f"where p.batch_id in ({', '.join(map(quote, unread))}) "
                "and trim(p.trade_date) rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') "
                "where d <= date_add(to_date(ingested_at), 366)"
            )
        dates = [date.fromisoformat(d) for span in spans for d in span if d is not None]
        if not dates:
            return
        # Through today: freshness counts the sessions closed since the latest bar.
        last_day = max(*dates, datetime.now(UTC).date())
        start, end = calendar.covering_years(min(dates), last_day)
        self.ingest(
            "trading_sessions",
            calendar.calendar_source(),
            calendar.session_records(start, end),
            register=False,
        )

    # --- build / gate / publish ------------------------------------------------------------
    def build(self, layers: tuple[str, ...] = LAYERS, full_refresh: bool = False) -> BuildReport:
        """Build, gate and publish each layer; with `full_refresh` every month is rebuilt,
        otherwise only the months changed since the published version."""
        report = BuildReport(run_id=new_run_id())
        with lake_lock(self.lake):
            client = self.client()
            publisher = Publisher(client, self.lake, self.progress)
            with report.stage("register"):
                publisher.recover()
                report.quarantined = self.register_pending(report.run_id)
                self.ensure_calendar()
                report.quarantined += self.register_pending(report.run_id)
            for layer in layers:
                window = self._rebuild_window(layer, full_refresh)
                months = "every month" if window.rebuild_from is None else window.partition_range
                self.progress(f"== {layer}: build audit relations (run {report.run_id})")
                self.progress(f"{layer}: partitioned tables rebuild {months} ({window.reason})")
                if window.carried:
                    self.progress(
                        f"{layer}: {', '.join(window.carried)} keep their published version "
                        "(no new batch of what they read)"
                    )
                with report.stage(f"{layer} build"):
                    built = self._dbt_build(layer, report.run_id, window)
                with report.stage(f"{layer} gate"):
                    gx = (
                        []
                        if any(o.blocks for o in built.checks)  # already blocked: skip GX
                        else Gate(self.settings, self.progress)
                        .run(layer, report.run_id, tables=self._gated(layer, window))
                        .outcomes
                    )
                    gate = GateResult(
                        layer=layer,
                        run_id=report.run_id,
                        outcomes=[*gx, *built.checks, *self._unguarded(layer, built.tables)],
                    )
                    gate.write(self.lake.runs / report.run_id / f"gate_{layer}.json")
                    history.record(
                        client,
                        gate,
                        window.partition_range,
                        validated_ranges(client, layer, built, window),
                    )
                report.gates[layer] = gate
                if not gate.passed:
                    report.blocked_layer = layer
                    self.progress(
                        f"== {layer}: gate BLOCKED promotion; published {layer} is unchanged"
                    )
                    return report
                with report.stage(f"{layer} publish"):
                    report.published[layer] = publisher.promote(
                        layer,
                        built.tables,
                        report.run_id,
                        gate.summary(),
                        rebuild_from=window.rebuild_from,
                        inputs=window.inputs,
                        sparse=[f"{layer}.{t}" for t in built.sparse],
                        appended=window.appended_logs,
                        whole=window.derived_logs,
                        carried=window.carried,
                    )
                    removed = collect_garbage(
                        self.lake, layer, self.settings.keep_versions, report.run_id
                    )
                if removed:
                    self.progress(
                        f"{layer}: removed {len(removed)} version directories older "
                        f"than the last {self.settings.keep_versions} promotions"
                    )
        return report

    def _rebuild_window(self, layer: str, full_refresh: bool) -> RebuildWindow:
        own = publish_history(self.lake, layer)
        previous = own[-1] if own else None
        code = transform_code(self.settings.project_dir, layer)
        if layer == "silver":
            news_suites = suites_digest(self.settings.project_dir, NEWS_MODELS)
            return silver_window(self.client(), previous, full_refresh, code, news_suites)
        return gold_window(
            publish_history(self.lake, "silver"),
            previous,
            full_refresh,
            functools.partial(news_window, self.client()),
            code,
        )

    def _gated(self, layer: str, window: RebuildWindow) -> set[str] | None:
        """The tables whose suites the gate runs: all but those the build carries over (their
        published version passed the same suites when it was built); None: every suite."""
        if not window.carried:
            return None
        suites = load_suites(self.settings.project_dir / "expectations", layer)
        return {s.table for s in suites} - set(window.carried_models)

    def _unguarded(self, layer: str, tables: Sequence[str]) -> list[ExpectationOutcome]:
        guarded = {s.table for s in load_suites(self.settings.project_dir / "expectations", layer)}
        return [
            ExpectationOutcome(
                suite=f"{layer}__{t}",
                table=f"{layer}{AUDIT_SUFFIX}.{t}",
                expectation="table_has_suite",
                kwargs={},
                severity="critical",
                success=False,
                error=f"no expectations/{layer}__{t}.json guards this table",
            )
            for t in tables
            if t not in guarded
        ]

    def _dbt_build(self, layer: str, run_id: str, window: RebuildWindow) -> LayerBuild:
        run_dir = self.lake.runs / run_id / f"dbt_{layer}"
        carried = window.carried_models
        command = [
            _dbt_executable(),
            "build",
            "--select",
            layer,
            *(["--exclude", *carried] if carried else []),
            # Unit tests check model logic on fixtures: `make test` runs them, not each build.
            "--exclude-resource-type",
            "unit_test",
            "--vars",
            json.dumps(
                {
                    "run_id": run_id,
                    "rebuild_from": window.rebuild_from,
                    "log_batches": window.log_batches,
                }
            ),
            "--project-dir",
            str(self.settings.project_dir),
            "--profiles-dir",
            str(self.settings.project_dir / "profiles"),
            "--target",
            self.settings.target,
            "--target-path",
            str(run_dir),
            "--log-path",
            str(run_dir),
            "--no-use-colors",
        ]
        env = {**self.settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=self.settings.project_dir,
            preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.progress(f"  dbt | {line.rstrip()}")
        if proc.returncode != 0 and not port_is_open(self.settings.host, self.settings.port):
            raise BuildError(
                f"the engine at {self.settings.host}:{self.settings.port} went away while dbt "
                f"built {layer}; nothing was published; start it with `marketpulse engine "
                "start` and build again"
            )
        built = read_layer_build(run_dir, layer, proc.returncode)
        readers = readers_of_carried(run_dir, carried)
        if readers:
            raise BuildError(
                f"{', '.join(readers)} read {', '.join(window.carried)}, which this build "
                "keeps from the published version without building; nothing was published; "
                "`marketpulse build --full-refresh` builds every table, and NEWS_MODELS "
                "(marketpulse/incremental.py) must list only tables no other model reads"
            )
        return built

    # --- the whole thing -------------------------------------------------------------------
    def run(self) -> BuildReport:
        if self.settings.manages_engine:
            Engine(self.settings).start(self.progress)
        self.ingest_simulated()
        return self.build()

    def quarantine_sample(self, limit: int = 5) -> list[tuple[Any, ...]]:
        """Unresolved quarantined records of the latest silver audit build, newest first."""
        return self.client().query(
            "select dataset, batch_id, line_number, rule_ids, reason "
            "from silver_audit.quarantine where not resolved_when_logged "
            f"order by detected_at desc, batch_id, line_number limit {int(limit)}"
        )

    def row_counts(self, report: BuildReport) -> dict[str, int]:
        client = self.client()
        return {
            table: int(client.query(f"select count(*) from {table}")[0][0])
            for manifest in report.published.values()
            for table in manifest.tables
        }
