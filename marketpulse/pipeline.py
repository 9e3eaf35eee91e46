"""The core object: ingest to bronze, then build → gate → publish silver, then gold."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marketpulse.config import AUDIT_SUFFIX, LAYERS, Settings
from marketpulse.engine import Engine, EngineClient
from marketpulse.errors import BuildError
from marketpulse.gates import ExpectationOutcome, Gate, GateResult, load_suites
from marketpulse.ingestion import catalog, synthetic
from marketpulse.ingestion.bronze import BronzeWriter, WriteResult
from marketpulse.publish import Publisher, PublishManifest, lake_lock


@dataclass
class BuildReport:
    run_id: str
    published: dict[str, PublishManifest] = field(default_factory=dict)
    gates: dict[str, GateResult] = field(default_factory=dict)
    blocked_layer: str | None = None

    @property
    def blocked(self) -> bool:
        return self.blocked_layer is not None


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


class Pipeline:
    def __init__(self, settings: Settings, progress: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.lake = settings.lake
        self.progress = progress
        self.writer = BronzeWriter(self.lake.raw)

    def client(self) -> EngineClient:
        return EngineClient(self.settings)

    # --- ingestion -------------------------------------------------------------------------
    def ingest(
        self, *, dataset: str, source: str, content: bytes, record_count: int
    ) -> WriteResult:
        spec = catalog.DATASETS[dataset]
        result = self.writer.write_batch(
            dataset=dataset,
            source=source,
            content=content,
            record_count=record_count,
            schema_version=spec.schema_version,
        )
        state = "landed" if result.is_new else "already landed (no-op)"
        m = result.manifest
        self.progress(
            f"bronze: {dataset} batch {m.batch_id} {state}: "
            f"{m.record_count} records, {m.byte_size} bytes, sha256 {m.sha256[:12]}"
        )
        self.register_pending()
        return result

    def ingest_default(self) -> WriteResult:
        content, count = synthetic.generate_prices()
        return self.ingest(
            dataset="prices_daily", source="synthetic", content=content, record_count=count
        )

    def register_pending(self) -> None:
        """Register every committed batch not yet in the catalog (also after a crash)."""
        client = self.client()
        catalog.ensure_tables(client, self.lake.raw)
        for dataset in catalog.DATASETS:
            catalog.register(client, self.writer.committed_batches(dataset), self.progress)

    # --- build / gate / publish ------------------------------------------------------------
    def build(self, layers: tuple[str, ...] = LAYERS) -> BuildReport:
        report = BuildReport(run_id=new_run_id())
        with lake_lock(self.lake):
            self.register_pending()
            client = self.client()
            publisher = Publisher(client, self.lake, self.progress)
            for layer in layers:
                self.progress(f"== {layer}: build audit relations (run {report.run_id})")
                tables, test_outcomes = self._dbt_build(layer, report.run_id)
                gate = Gate(self.settings, self.progress).run(layer, report.run_id)
                gate = GateResult(
                    layer=layer,
                    run_id=report.run_id,
                    outcomes=gate.outcomes + test_outcomes + self._unguarded(layer, tables),
                )
                gate.write(self.lake.runs / report.run_id / f"gate_{layer}.json")
                report.gates[layer] = gate
                if not gate.passed:
                    report.blocked_layer = layer
                    self.progress(
                        f"== {layer}: gate BLOCKED promotion; published {layer} is unchanged"
                    )
                    return report
                report.published[layer] = publisher.promote(
                    layer, tables, report.run_id, gate.summary()
                )
        return report

    def _unguarded(self, layer: str, tables: list[str]) -> list[ExpectationOutcome]:
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

    def _dbt_build(self, layer: str, run_id: str) -> tuple[list[str], list[ExpectationOutcome]]:
        run_dir = self.lake.runs / run_id / f"dbt_{layer}"
        command = [
            _dbt_executable(),
            "build",
            "--select",
            layer,
            "--vars",
            json.dumps({"run_id": run_id}),
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
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                self.progress(f"  dbt | {line.rstrip()}")
        results_path = run_dir / "run_results.json"
        if not results_path.exists():
            raise BuildError(
                f"dbt build --select {layer} failed before running anything "
                f"(exit {proc.returncode}); see {run_dir / 'dbt.log'}"
            )
        results = json.loads(results_path.read_text())["results"]
        manifest = json.loads((run_dir / "manifest.json").read_text())["nodes"]
        failed_models = [
            r for r in results if r["unique_id"].startswith("model.") and r["status"] != "success"
        ]
        if failed_models:
            names = ", ".join(
                f"{r['unique_id']} ({r['status']}: {r.get('message')})" for r in failed_models
            )
            raise BuildError(f"dbt could not build {layer}: {names}; see {run_dir / 'dbt.log'}")
        tables = sorted(
            manifest[r["unique_id"]]["alias"]
            for r in results
            if r["unique_id"].startswith("model.")
            and manifest[r["unique_id"]]["config"]["materialized"] == "table"
        )
        return tables, [
            self._test_outcome(layer, r, manifest)
            for r in results
            if r["unique_id"].startswith("test.")
        ]

    @staticmethod
    def _test_outcome(
        layer: str, result: dict[str, Any], nodes: dict[str, Any]
    ) -> ExpectationOutcome:
        node = nodes[result["unique_id"]]
        status = result["status"]
        warn_only = status == "warn" or str(node["config"].get("severity", "")).lower() == "warn"
        return ExpectationOutcome(
            suite=f"dbt:{layer}",
            table=str(node.get("attached_node") or ""),
            expectation=f"dbt test {node['name']}",
            kwargs={},
            severity="warning" if warn_only else "critical",
            success=status == "pass",
            observed={"failures": result.get("failures")},
            error="" if status == "pass" else str(result.get("message") or status),
        )

    # --- the whole thing -------------------------------------------------------------------
    def run(self) -> BuildReport:
        Engine(self.settings).start(self.progress)
        self.ingest_default()
        return self.build()

    def row_counts(self, report: BuildReport) -> dict[str, int]:
        client = self.client()
        return {
            table: int(client.query(f"select count(*) from {table}")[0][0])
            for manifest in report.published.values()
            for table in manifest.tables
        }


def read_file_records(path: Path) -> tuple[bytes, int]:
    """Bytes of a delivered CSV and its record count (lines after the header)."""
    content = path.read_bytes()
    lines = [line for line in content.splitlines() if line.strip()]
    return content, max(len(lines) - 1, 0)
