from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from marketpulse.config import Settings
from marketpulse.engine import Engine, free_port
from marketpulse.errors import PortInUse
from marketpulse.publish import lake_lock


def test_start_refuses_a_port_held_by_another_process(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port} is held by another process"):
            Engine(Settings(home=tmp_path, port=port)).start(progress=lambda _m: None)


def test_status_of_a_lake_without_engine_is_stopped(tmp_path: Path) -> None:
    assert Engine(Settings(home=tmp_path)).status().describe() == "engine: stopped"


def test_a_second_run_on_the_same_lake_fails_fast_on_the_lock(tmp_path: Path) -> None:
    """Two `marketpulse build`s at once: the second exits at once, naming the holder."""
    lake = Settings(home=tmp_path).lake
    env = {**os.environ, "MARKETPULSE_HOME": str(tmp_path)}
    with lake_lock(lake):
        second = subprocess.run(
            [sys.executable, "-m", "marketpulse.cli", "build"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert second.returncode == 1
    assert f"holds the lake lock {lake.run_lock} (pid {os.getpid()} since" in second.stderr
    with lake_lock(lake):  # released again
        pass


def test_the_lake_lock_is_reentrant_within_a_run(tmp_path: Path) -> None:
    lake = Settings(home=tmp_path).lake
    with lake_lock(lake):
        with lake_lock(lake):  # e.g. a build delivering the calendar registers it
            pass
        assert str(os.getpid()) in lake.run_lock.read_text()  # the inner exit kept the lock


def test_help_lists_the_commands_and_exit_codes() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "marketpulse.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert all(cmd in out for cmd in ("engine", "ingest", "build", "run", "rollback"))
    assert "3 a quality gate blocked promotion" in out


def test_the_cli_module_keeps_heavy_imports_out() -> None:
    probe = (
        "import sys, marketpulse.cli; "
        "print(sorted(m for m in ('pyspark', 'great_expectations', 'pandas', 'pyhive') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_each_lake_keeps_its_engines_operation_logs(tmp_path: Path) -> None:
    """HiveServer2 deletes its operation-log root on stop: a root shared between lakes made
    stopping one engine crash another starting on the same machine."""
    command = Engine(Settings(home=tmp_path))._command("local[2]")
    location = f"hive.server2.logging.operation.log.location={tmp_path / 'logs' / 'operation_logs'}"
    assert command[command.index(location) - 1] == "--hiveconf"
