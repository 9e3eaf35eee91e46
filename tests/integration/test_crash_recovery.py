"""Kill the CLI or the engine in the middle of a build or a promotion; lose the upstream.

Published layers must stay intact (or be rolled forward by the next locked start) and a rerun
must converge to the clean result. A lake and an engine of their own, on a small market,
because these tests kill things. They run in file order.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from marketpulse import cli
from marketpulse.config import Settings
from marketpulse.engine import Engine, EngineClient, free_port
from marketpulse.ingestion.bronze import BatchScan, BronzeWriter
from marketpulse.ingestion.simulator import SimulationConfig
from marketpulse.pipeline import Pipeline
from marketpulse.publish import PENDING, Publisher, lake_lock

from .conftest import served_runs, snapshot

SMALL_MARKET = SimulationConfig(tickers=8, start=date(2024, 1, 2), end=date(2024, 6, 28))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(home=tmp_path_factory.mktemp("crash_lake"), port=free_port())
    Engine(settings).start(progress=print)
    try:
        pipeline = Pipeline(settings)
        pipeline.ingest_simulated(SMALL_MARKET)
        assert not pipeline.build().blocked
        yield settings
    finally:
        Engine(settings).stop(progress=print)


@pytest.fixture()
def reader(lake: Settings) -> Iterator[EngineClient]:
    client = EngineClient(lake)
    yield client
    client.close()


def _published(lake: Settings, client: EngineClient) -> dict[str, tuple[str, list[Any]]]:
    """Every published table: its location and its rows."""
    publisher = Publisher(client, lake.lake)
    tables = [t for layer in ("silver", "gold") for t in publisher.history(layer)[-1].tables]
    return {t: (publisher.served(t), snapshot(client, t)) for t in tables}


def _rows(state: dict[str, tuple[str, list[Any]]]) -> dict[str, list[Any]]:
    return {t: rows for t, (_, rows) in state.items()}


def _cli_process(lake: Settings, *args: str, prelude: str = "") -> subprocess.Popen[str]:
    """`marketpulse <args>` in a process of its own; `prelude` runs first (fault injection)."""
    script = prelude + textwrap.dedent(f"""
        import sys
        from marketpulse import cli
        sys.exit(cli.main({["--home", str(lake.home), "--port", str(lake.port), *args]!r}))
    """)
    return subprocess.Popen(
        [sys.executable, "-u", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(proc: subprocess.Popen[str], pattern: str) -> list[str]:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if re.search(pattern, line):
            return seen
    raise AssertionError(f"never printed {pattern!r}:\n{''.join(seen[-30:])}")


def _dbt_processes(lake: Settings) -> str:
    found = subprocess.run(
        ["pgrep", "-af", f"dbt build .*{lake.home}"], capture_output=True, text=True
    )
    return found.stdout


def _build(lake: Settings, capsys: pytest.CaptureFixture[str]) -> str:
    code = cli.main(["--home", str(lake.home), "--port", str(lake.port), "build"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK, out[-3000:]
    return out


# Dies by SIGKILL right after the second table of silver has been re-pointed.
KILL_MID_PUBLISH = textwrap.dedent("""
    import os, signal
    from marketpulse.engine import EngineClient
    execute, alters = EngineClient.execute, []
    def execute_then_die(self, sql, *args, **kwargs):
        result = execute(self, sql, *args, **kwargs)
        if sql.startswith("alter table silver.") and " set location " in sql:
            alters.append(sql)
            if len(alters) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        return result
    EngineClient.execute = execute_then_die
""")


def test_cli_killed_mid_publish_is_rolled_forward_by_the_next_run(
    lake: Settings, reader: EngineClient, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _published(lake, reader)
    proc = _cli_process(lake, "build", prelude=KILL_MID_PUBLISH)
    output = proc.communicate(timeout=900)[0]
    assert proc.returncode == -signal.SIGKILL, output[-3000:]
    killed_run = re.search(r"build audit relations \(run (\S+)\)", output).group(1)

    # Killed halfway: some silver tables serve the new version, the rest the old one.
    pending = lake.lake.publish / PENDING / "silver.json"
    assert pending.exists()
    publisher = Publisher(reader, lake.lake)
    silver = [t for t in before if t.startswith("silver.")]
    moved = [t for t in silver if served_runs(publisher.served(t)) == {killed_run}]
    assert len(moved) == 2 and len(silver) > 2

    # The next locked start finishes exactly that promotion, before building anything.
    with lake_lock(lake.lake):
        (finished,) = Publisher(reader, lake.lake, progress=print).recover()
    assert finished.run_id == killed_run and not pending.exists()
    record = publisher.history("silver")[-1]
    assert record.run_id == killed_run
    # Every table serves the killed run's version (its rebuilt months, for partitioned ones).
    for table in silver:
        assert publisher.served(table) == record.partitions.get(table, record.tables[table])
    assert killed_run in served_runs(publisher.served("silver.prices_daily"))
    assert _rows(_published(lake, reader)) == _rows(before)

    _build(lake, capsys)
    after = _published(lake, reader)
    assert _rows(after) == _rows(before)  # same input, same published rows
    # The catalog serves exactly each layer's version of record: the rerun's tables, and for
    # the month-partitioned ones the months it rebuilt beside the killed run's older months.
    for layer in ("silver", "gold"):
        record = publisher.history(layer)[-1]
        for table, location in record.tables.items():
            assert after[table][0] == record.partitions.get(table, location), table


def test_cli_killed_mid_model_leaves_published_intact_and_rerun_converges(
    lake: Settings, reader: EngineClient, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _published(lake, reader)
    proc = _cli_process(lake, "build")
    _wait_for(proc, r"START sql table model silver_audit\.prices_daily")
    proc.kill()
    proc.communicate(timeout=60)

    assert _published(lake, reader) == before  # same locations, same rows
    assert not list((lake.lake.publish / PENDING).glob("*.json"))
    # dbt died with the CLI: nothing keeps building behind the next run's back.
    deadline = time.monotonic() + 20
    while _dbt_processes(lake) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _dbt_processes(lake) == ""

    _build(lake, capsys)
    assert _rows(_published(lake, reader)) == _rows(before)


def test_engine_killed_mid_model_leaves_published_intact_and_rerun_converges(
    lake: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    client = EngineClient(lake)
    before = _published(lake, client)
    client.close()
    proc = _cli_process(lake, "build")
    _wait_for(proc, r"START sql table model silver_audit\.prices_daily")
    engine_pid = Engine(lake).status().pid
    assert engine_pid
    os.kill(engine_pid, signal.SIGKILL)
    output = proc.communicate(timeout=300)[0]
    assert proc.returncode == cli.EXIT_ERROR, output[-3000:]
    assert "start it with `marketpulse engine start`" in output  # says what to do next

    Engine(lake).start(progress=print)
    client = EngineClient(lake)
    try:
        assert _published(lake, client) == before
        _build(lake, capsys)
        assert _rows(_published(lake, client)) == _rows(before)
    finally:
        client.close()


def test_lost_bronze_files_stop_the_build_until_restored(
    lake: Settings, reader: EngineClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bronze price files lost (an unmounted volume, a bad sync). A windowed build reads
    only the unread batches' files (the read ones it takes from the published version), so
    registration checks that every registered batch still has its data before anything."""
    publisher = Publisher(reader, lake.lake)
    versions = {layer: len(publisher.history(layer)) for layer in ("silver", "gold")}
    raw_prices = lake.lake.raw / "prices_daily"
    hidden = raw_prices.with_name("prices_daily.unmounted")
    raw_prices.rename(hidden)
    try:
        code = cli.main(["--home", str(lake.home), "--port", str(lake.port), "build"])
        out = capsys.readouterr()
    finally:
        hidden.rename(raw_prices)
    assert code == cli.EXIT_ERROR, out.out[-3000:]
    message = out.out + out.err
    assert f"registered bronze batches have no files under {lake.lake.raw}: prices_daily " in (
        message
    ), message[-3000:]
    assert "Restore them" in message
    # Nothing was published, not even the windowed build that would have passed unnoticed.
    assert {layer: len(publisher.history(layer)) for layer in versions} == versions
    # Restored, the next build publishes.
    assert cli.main(["--home", str(lake.home), "--port", str(lake.port), "build"]) == cli.EXIT_OK
    assert len(publisher.history("silver")) == versions["silver"] + 1


def test_behind_that_check_an_empty_upstream_is_blocked(
    lake: Settings,
    reader: EngineClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a loss get past the files check (here it is told every batch with a manifest
    has its data), the gate blocks a build whose price files are gone: an empty build
    never replaces a published table."""
    before = _published(lake, reader)
    scan = BronzeWriter.scan

    def every_batch_has_data(
        writer: BronzeWriter, dataset: str, skip: Collection[str] = ()
    ) -> BatchScan:
        everything = {m.batch_id for m in scan(writer, dataset).manifests}
        return replace(scan(writer, dataset, skip), with_data=everything)

    monkeypatch.setattr(BronzeWriter, "scan", every_batch_has_data)
    batches = lake.lake.raw / "prices_daily"
    parts = sorted(batches.glob("source=*/ingest_date=*/batch_id=*/part-*"))
    assert parts
    for part in parts:  # `_`-prefixed files are invisible to Spark
        part.rename(part.with_name("_lost-" + part.name))
    try:
        args = ["--home", str(lake.home), "--port", str(lake.port), "build", "--full-refresh"]
        code = cli.main(args)
        out = capsys.readouterr().out
    finally:
        for part in parts:
            part.with_name("_lost-" + part.name).rename(part)
    assert code == cli.EXIT_GATE_BLOCKED, out[-3000:]
    assert (
        "FAILED  silver__prices_daily: An empty build never replaces a published table. "
        "[observed_value=0]" in out
    ), out[-3000:]
    assert _published(lake, reader) == before
