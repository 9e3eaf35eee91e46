"""A second engine, started and stopped through the CLI like a user would."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketpulse import cli
from marketpulse.engine import free_port


def test_start_is_idempotent_and_stop_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--home", str(tmp_path / "lake"), "--port", str(free_port())]
    assert cli.main([*args, "engine", "start"]) == 0
    try:
        first = capsys.readouterr().out
        assert "engine: running" in first and "thrift=127.0.0.1:" in first
        assert cli.main([*args, "engine", "start"]) == 0  # already running: no second server
        assert "starting" not in capsys.readouterr().out
        assert cli.main([*args, "engine", "status"]) == 0
        assert "engine: running" in capsys.readouterr().out
    finally:
        assert cli.main([*args, "engine", "stop"]) == 0
    assert cli.main([*args, "engine", "status"]) == 0
    assert capsys.readouterr().out.strip().endswith("engine: stopped")
