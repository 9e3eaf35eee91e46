from __future__ import annotations

from marketpulse import cli
from marketpulse.ingestion.simulator import FAULTS


def test_the_cli_lists_exactly_the_simulator_faults() -> None:
    assert tuple(FAULTS) == cli.SIMULATOR_FAULTS


def test_an_unknown_command_is_a_usage_error(capsys) -> None:
    try:
        cli.main(["frobnicate"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err
