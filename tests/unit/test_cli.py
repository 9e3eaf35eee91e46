from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--batch", "b1", "--rule", "split_like_jump"), "waived for a key"),
        (("--ticker", "AAA", "--rule", "split_like_jump"), "waived for a key"),
        (("--ticker", "AAA", "--date", "2024-06-03", "--rule", "quarantine_rate"), "--batch"),
        (("--batch", "b1", "--date", "2024-06-03", "--rule", "quarantine_rate"), "--batch"),
        (("--batch", "b1", "--ticker", "AAA"), "quarantine_rate is waived for a delivery"),
        (("--ticker", "AAA"), "split_like_jump is waived for a key"),
    ],
)
def test_a_release_names_a_key_or_a_delivery_as_its_rule_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    code = cli.main(
        ["--home", str(tmp_path), "--port", "1", "release", *args, "--reason", "checked"]
    )
    assert code == cli.EXIT_ERROR
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()  # nothing recorded
