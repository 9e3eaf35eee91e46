from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from marketpulse.config import Settings
from marketpulse.engine import Engine, free_port
from marketpulse.errors import LockHeld, PortInUse
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
    lake = Settings(home=tmp_path).lake
    with lake_lock(lake), pytest.raises(LockHeld, match="holds the lake lock"), lake_lock(lake):
        pass
    with lake_lock(lake):  # released again
        pass


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
