"""Scale-out: the same project, unchanged, on a Spark standalone cluster (a master and two
single-core workers on loopback, started by `marketpulse engine start --cluster 2`) publishes
the same silver and gold as the local engine."""

from __future__ import annotations

import json
import math
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from marketpulse import cli
from marketpulse.config import Settings
from marketpulse.engine import Engine, EngineClient, free_port
from marketpulse.pipeline import BuildReport, Pipeline
from marketpulse.publish import Publisher

from .conftest import served_runs

# Columns that record when and from which delivery a row came: they differ between two lakes.
LINEAGE = {"batch_id", "ingested_at", "detected_at"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(home=tmp_path_factory.mktemp("cluster_lake"), port=free_port())
    args = ["--home", str(settings.home), "--port", str(settings.port)]
    assert cli.main([*args, "engine", "start", "--cluster", "2"]) == cli.EXIT_OK
    try:
        yield settings
    finally:
        cli.main([*args, "engine", "stop"])


def _rows(client: EngineClient, table: str) -> list[tuple[Any, ...]]:
    columns = [
        name
        for name, *_ in client.query(f"describe {table}")
        if name and not name.startswith("#") and name not in LINEAGE
    ]
    rows = client.query(f"select {', '.join(f'`{c}`' for c in columns)} from {table}")
    return sorted(rows, key=lambda row: repr([v for v in row if not isinstance(v, float)]))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
    return bool(a == b)


def test_the_pipeline_on_a_cluster_publishes_what_local_mode_publishes(
    cluster: Settings, settings: Settings, default_run: BuildReport
) -> None:
    status = Engine(cluster).status()
    assert status.master.startswith("spark://") and status.workers == 2
    with urllib.request.urlopen(f"{status.master_ui}/json/", timeout=10) as response:
        master = json.load(response)
    assert master["aliveworkers"] == 2
    (app,) = master["activeapps"]  # the Thrift server runs its executors on the workers
    assert app["cores"] == 2

    report = Pipeline(cluster).run()  # the engine is already up: run() keeps it
    assert not report.blocked

    local, remote = EngineClient(settings), EngineClient(cluster)
    try:
        tables = [t for m in default_run.published.values() for t in m.tables]
        # The reference is the default run as published; later tests change that lake.
        served = {t: Publisher(local, settings.lake).served(t) for t in tables}
        # An empty partitioned table (the quarantine log, on clean data) serves no partition.
        assert all(served_runs(s) == {default_run.run_id} for s in served.values() if s), served
        assert sorted(tables) == sorted(t for m in report.published.values() for t in m.tables)
        for table in tables:
            expected, actual = _rows(local, table), _rows(remote, table)
            assert len(actual) == len(expected), table
            assert all(
                len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
                for x, y in zip(expected, actual, strict=True)
            ), table
    finally:
        local.close()
        remote.close()
