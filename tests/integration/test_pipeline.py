"""The walking skeleton end to end: ingest → silver → gate → publish → gold → gate → publish.

The tests run in file order on one lake; each states what it relies on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketpulse import cli
from marketpulse.config import Settings
from marketpulse.engine import EngineClient
from marketpulse.pipeline import BuildReport, Pipeline
from marketpulse.publish import Publisher

from .conftest import snapshot

PUBLISHED = (
    "silver.prices_daily",
    "silver.quarantine",
    "silver.restatements",
    "silver.trading_sessions",
    "gold.fct_ticker_daily",
)


def _cli(settings: Settings, *args: str) -> int:
    return cli.main(["--home", str(settings.home), "--port", str(settings.port), *args])


def test_run_publishes_gated_silver_and_gold(
    settings: Settings, client: EngineClient, default_run: BuildReport
) -> None:
    report = default_run
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
    # One prices delivery and one calendar delivery, each registered once.
    assert client.query(
        "select dataset, count(*) from bronze.batches group by dataset order by 1"
    ) == [("prices_daily", 1), ("trading_sessions", 1)]


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
    assert "FAILED  silver__quarantine: Quarantine rate per batch is at most 5%" in out
    assert "line 1: price_not_positive,ohlc_inconsistent" in out
    assert {t: snapshot(client, t) for t in PUBLISHED} == before
    assert {t: Publisher(client, settings.lake).location(t) for t in PUBLISHED} == locations
    # The decision is on record for analysts.
    blocked = client.query(
        "select run_id, observed from quality.gate_results "
        "where blocks and suite = 'silver__quarantine'"
    )
    assert len(blocked) == 1 and '"observed_value": 1' in blocked[0][1]
    recorded = client.query(
        f"select count(*) from quality.gate_results where run_id = '{blocked[0][0]}'"
    )[0][0]
    assert recorded == len(
        json.loads((settings.lake.runs / blocked[0][0] / "gate_silver.json").read_text())[
            "outcomes"
        ]
    )

    # A corrected delivery is a new batch; the latest delivery wins and the gate passes.
    good = tmp_path / "good.csv"
    original = client.query(
        "select open, high, low, close, volume from silver.prices_daily "
        "where ticker = 'AAPL' and trade_date = date'2024-06-03'"
    )[0]
    good.write_text(
        "ticker,trade_date,open,high,low,close,volume\n"
        "AAPL,2024-06-03," + ",".join(str(v) for v in original) + "\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(good)) == 0
    assert _cli(settings, "build") == cli.EXIT_OK
    assert snapshot(client, "gold.fct_ticker_daily") == before["gold.fct_ticker_daily"]


def test_every_delivered_bar_is_published_quarantined_or_superseded(client: EngineClient) -> None:
    """Reconciliation per bronze batch: nothing lost, nothing counted twice."""
    rows = client.query("""
        with delivered as (
            select b.batch_id, b.record_count + b.rejected_count as delivered
            from bronze.batches as b where b.dataset = 'prices_daily'
        ),
        published as (
            select batch_id, count(*) as n from silver.prices_daily group by batch_id
        ),
        quarantined as (
            select batch_id, count(*) as n from silver.quarantine
            where dataset = 'prices_daily' group by batch_id
        ),
        superseded as (
            select p.batch_id, count(*) as n
            from bronze.prices_daily as p
            inner join silver.prices_daily as s
                on upper(trim(p.ticker)) = s.ticker and cast(p.trade_date as date) = s.trade_date
            left anti join silver.quarantine as q
                on q.batch_id = p.batch_id and q.line_number = cast(p.line_number as bigint)
            where not (s.batch_id = p.batch_id and s.line_number = cast(p.line_number as bigint))
            group by p.batch_id
        )
        select d.batch_id, d.delivered, coalesce(p.n, 0), coalesce(q.n, 0), coalesce(s.n, 0)
        from delivered as d
        left join published as p on d.batch_id = p.batch_id
        left join quarantined as q on d.batch_id = q.batch_id
        left join superseded as s on d.batch_id = s.batch_id
    """)
    assert len(rows) == 3  # the default data, the bad bar, its correction
    for batch_id, delivered, published, quarantined, superseded in rows:
        assert published + quarantined + superseded == delivered, batch_id
    assert sorted((r[3], r[4]) for r in rows) == [(0, 0), (0, 1), (1, 0)]
