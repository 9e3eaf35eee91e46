"""What one measured pipeline run needs: a fresh lake and engine, stage times, memory, jobs."""

from __future__ import annotations

import gc
import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from marketpulse.config import Settings
from marketpulse.engine import Engine, EngineClient, free_port
from marketpulse.pipeline import BuildReport, Pipeline
from marketpulse.publish import lake_lock

STAGE_ORDER = (
    "ingest",
    "bronze gate",  # each landed batch validated by its bronze suite, then registered
    "register",
    "silver build",
    "silver gate",
    "silver publish",
    "gold build",
    "gold gate",
    "gold publish",
)


@dataclass
class RunMeasure:
    """One pipeline run: seconds per stage, Spark jobs per gate, peak memory."""

    label: str
    bars: int
    stages: dict[str, float] = field(default_factory=dict)
    gate_jobs: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(self.stages.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "bars": self.bars,
            "total_s": round(self.total_s, 3),
            "bars_per_s": round(self.bars / self.total_s, 1) if self.total_s else None,
            "stages_s": {k: round(v, 3) for k, v in self.stages.items()},
            "spark_jobs_per_gate": self.gate_jobs,
            "peak_rss_mb": self.peak_rss_mb,
        }


class BenchLake:
    """A lake and engine of their own, so every measurement starts cold and comparable."""

    def __init__(self, home: Path, progress: Callable[[str], None]) -> None:
        self.settings = Settings(home=home, port=free_port())
        self.progress = progress
        self.engine = Engine(self.settings)
        self.pipeline = Pipeline(self.settings, progress=lambda _m: None)

    def __enter__(self) -> BenchLake:
        self.engine.start(self.progress)
        self.dbt_peak = ChildPeak("dbt")
        return self

    def __exit__(self, *exc: object) -> None:
        self.dbt_peak.stop()
        self.pipeline.client().close()
        gc.collect()  # GX's pooled connections close now, while the engine still answers
        self.engine.stop(lambda _m: None)

    def client(self) -> EngineClient:
        return self.pipeline.client()

    def measure_build(self, measure: RunMeasure) -> BuildReport:
        self.reset_peaks()
        report = self.pipeline.build()
        if report.blocked:
            raise RuntimeError(
                f"bench run {measure.label} was blocked at {report.blocked_layer}: "
                f"{[o.label() for o in report.gates[report.blocked_layer].blocking]}"
            )
        for name, (start, end) in report.stages.items():
            measure.stages[name] = measure.stages.get(name, 0.0) + end - start
        for layer in report.gates:
            start, end = report.stages[f"{layer} gate"]
            measure.gate_jobs[layer] = self.spark_jobs_between(start, end)
        measure.peak_rss_mb = self.peak_rss_mb()
        return report

    # --- memory and jobs -------------------------------------------------------------------
    def reset_peaks(self) -> None:
        """Start the high-water marks afresh (Linux `clear_refs` 5), so a run's peaks are its
        own and not those of what this process or the engine did before."""
        for pid in (os.getpid(), self.engine.status().pid):
            if pid:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        self.dbt_peak.peak_mb = 0.0

    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory: this Python process, its dbt children, the engine JVM."""
        own = _peak_mb(os.getpid())
        peaks = {"python": round(own, 1), "dbt": round(self.dbt_peak.peak_mb, 1)}
        pid = self.engine.status().pid
        if pid:
            peaks["engine JVM"] = round(_peak_mb(pid), 1)
        return peaks

    def spark_jobs_between(self, start: float, end: float) -> int:
        """Jobs the engine submitted in a time window, from Spark's own REST API."""
        jobs = self._rest("jobs")
        submitted = [_epoch(j["submissionTime"]) for j in jobs if "submissionTime" in j]
        return sum(start <= t <= end for t in submitted)

    def _rest(self, what: str) -> list[dict[str, Any]]:
        log = (self.settings.lake.logs / "engine.log").read_text(errors="replace")
        port = re.findall(r"started service 'SparkUI' on port (\d+)", log)[-1]
        base = f"http://127.0.0.1:{port}/api/v1/applications"
        with urllib.request.urlopen(base, timeout=10) as response:
            app = json.load(response)[0]["id"]
        with urllib.request.urlopen(f"{base}/{app}/{what}", timeout=30) as response:
            return list(json.load(response))


def _peak_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM), 0 if it is gone."""
    try:
        match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0.0
    return int(match.group(1)) / 1024 if match else 0.0


class ChildPeak:
    """Samples the peak memory of this process's children running `name` (dbt runs as a
    child per layer; getrusage would mix it up with the engine JVM once that is reaped)."""

    def __init__(self, name: str, every_s: float = 0.2) -> None:
        self.name, self.every_s, self.peak_mb = name, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(self.every_s):
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    if stat.read_text().rsplit(")", 1)[1].split()[1] != me:
                        continue
                    cmdline = (stat.parent / "cmdline").read_bytes()
                except (OSError, IndexError):
                    continue
                if f"/{self.name}".encode() in cmdline:
                    self.peak_mb = max(self.peak_mb, _peak_mb(int(stat.parent.name)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _epoch(spark_time: str) -> float:
    # Spark's REST API: "2026-11-28T20:19:23.123GMT"
    return datetime.strptime(
        spark_time.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z"
    ).timestamp()


@contextmanager
def timed(measure: RunMeasure, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        measure.stages[stage] = measure.stages.get(stage, 0.0) + time.perf_counter() - started


def registered_bars(lake: BenchLake) -> int:
    with lake_lock(lake.settings.lake):
        return int(lake.client().query("select count(*) from bronze.prices_daily")[0][0])
