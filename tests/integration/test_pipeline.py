"""The walking skeleton end to end: ingest → silver → gate → publish → gold → gate → publish.

The tests run in file order on one lake; each states what it relies on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from marketpulse import cli
from marketpulse.config import Settings
from marketpulse.engine import EngineClient
from marketpulse.pipeline import Pipeline
from marketpulse.publish import Publisher

from .conftest import snapshot

PUBLISHED = ("silver.prices_daily", "gold.fct_ticker_daily")


def _cli(settings: Settings, *args: str) -> int:
    return cli.main(["--home", str(settings.home), "--port", str(settings.port), *args])


def test_run_publishes_gated_silver_and_gold(settings: Settings, client: EngineClient) -> None:
    report = Pipeline(settings).run()
    assert not report.blocked and set(report.published) == {"silver", "gold"}
    assert all(gate.passed for gate in report.gates.values())
    databases = {row[0] for row in client.query("show databases")}
    assert {"bronze", "silver", "gold"} <= databases
    assert client.query("select count(*) from gold.fct_ticker_daily")[0][0] == 2016
    for table in PUBLISHED:
        location = Publisher(client, settings.lake).location(table)
        assert f"_v={report.run_id}" in location


def test_rerun_publishes_identical_tables_without_duplicates(
    settings: Settings, client: EngineClient
) -> None:
    before = {t: snapshot(client, t) for t in PUBLISHED}
    report = Pipeline(settings).run()  # same default data: ingest is a no-op
    assert not report.blocked
    assert {t: snapshot(client, t) for t in PUBLISHED} == before
    keys = client.query(
        "select count(*), count(distinct ticker, trade_date) from silver.prices_daily"
    )[0]
    assert keys[0] == keys[1] == 2016
    assert client.query("select count(*) from bronze.batches")[0][0] == 1


def test_hand_run_gold_reads_published_silver(settings: Settings) -> None:
    import subprocess
    import sys

    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [
            str(dbt),
            "compile",
            "--select",
            "fct_ticker_daily",
            "--profiles-dir",
            "profiles",
            "--target-path",
            str(settings.home / "t"),
        ],
        cwd=settings.project_dir,
        env=settings.dbt_env(),
        check=True,
        capture_output=True,
    )
    compiled = next((settings.home / "t").rglob("fct_ticker_daily.sql")).read_text()
    assert "from silver.prices_daily" in compiled
    assert "silver_audit" not in compiled


def test_rollback_restores_the_previous_silver_row_for_row(
    settings: Settings, client: EngineClient
) -> None:
    publisher = Publisher(client, settings.lake)
    history = publisher.history("silver")
    assert len(history) >= 2
    rows = snapshot(client, "silver.prices_daily")
    assert _cli(settings, "rollback", "silver") == cli.EXIT_OK
    assert publisher.location("silver.prices_daily") == history[-2].tables["silver.prices_daily"]
    assert snapshot(client, "silver.prices_daily") == rows


def test_negative_close_blocks_promotion_and_leaves_published_unchanged(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {t: snapshot(client, t) for t in PUBLISHED}
    locations = {t: Publisher(client, settings.lake).location(t) for t in PUBLISHED}
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ticker,trade_date,open,high,low,close,volume\nAAPL,2024-06-03,100.0,101.0,99.0,-5.0,1000\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(bad), "--source", "vendor") == 0

    code = _cli(settings, "build")

    out = capsys.readouterr().out
    assert code == cli.EXIT_GATE_BLOCKED
    assert "FAILED  silver__prices_daily: Prices are positive and finite" in out
    assert "OHLC: low <= close" in out
    assert {t: snapshot(client, t) for t in PUBLISHED} == before
    assert {t: Publisher(client, settings.lake).location(t) for t in PUBLISHED} == locations

    # A corrected delivery is a new batch; the latest delivery wins and the gate passes.
    good = tmp_path / "good.csv"
    original = next(
        r for r in before["silver.prices_daily"] if r[0] == "AAPL" and str(r[1]) == "2024-06-03"
    )
    good.write_text(
        "ticker,trade_date,open,high,low,close,volume\n"
        f"AAPL,2024-06-03,{original[2]},{original[3]},{original[4]},"
        f"{original[5]},{original[6]}\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(good)) == 0
    assert _cli(settings, "build") == cli.EXIT_OK
    assert snapshot(client, "gold.fct_ticker_daily") == before["gold.fct_ticker_daily"]
