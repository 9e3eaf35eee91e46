"""The walking skeleton end to end: ingest → silver → gate → publish → gold → gate → publish.

The tests run in file order on one lake; each states what it relies on.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from marketpulse import cli
from marketpulse.config import PROJECT_DIR, Settings
from marketpulse.engine import METADATA_CACHE_TTL_S, EngineClient
from marketpulse.gates import load_suites
from marketpulse.pipeline import BuildReport, Pipeline
from marketpulse.publish import Publisher

from .conftest import served_runs, snapshot

PUBLISHED = (
    "silver.prices_daily",
    "silver.corporate_actions",
    "silver.instruments",
    "silver.trading_sessions",
    "silver.news_article_deliveries",
    "silver.news_articles",
    "silver.news_article_tickers",
    "silver.news_sentiment",
    "silver.quarantine",
    "silver.restatements",
    "silver.held_prices",
    "gold.fct_ticker_daily",
    "gold.fct_market_daily",
    "gold.fct_sector_daily",
    "gold.fct_ticker_sentiment_daily",
    "gold.fct_sentiment_signal",
    "gold.dim_instruments",
)
EXPECTATIONS = PROJECT_DIR / "expectations"
# Review tables: empty on clean data.
MAY_BE_EMPTY = {"silver.quarantine", "silver.restatements", "silver.held_prices"}


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
    counts = {t: client.query(f"select count(*) from {t}")[0][0] for t in PUBLISHED}
    assert all(n > 0 for t, n in counts.items() if t not in MAY_BE_EMPTY), counts
    assert counts["gold.fct_ticker_daily"] == counts["silver.prices_daily"]
    for table in PUBLISHED:
        served = Publisher(client, settings.lake).served(table)
        if counts[table] == 0 and table in report.published["silver"].partitions:
            # An empty partitioned table (the log, on clean data) serves no partition.
            assert served == report.published["silver"].partitions[table] == {}, table
        else:
            assert served_runs(served) == {report.run_id}, table


def test_freshness_counts_closed_sessions_since_the_latest_bar(
    settings: Settings, client: EngineClient, default_run: BuildReport
) -> None:
    """The default data ends in 2024: the gate warns with the sessions closed since. The same
    query finds nothing for a bar on the latest closed session, or the one before."""
    (freshness,) = [
        o for o in default_run.gates["silver"].outcomes if o.description.startswith("Freshness")
    ]
    (found,) = [json.loads(e) for e in freshness.observed["examples"]]
    closed = [
        d
        for (d,) in client.query(
            "select cast(session_date as string) from silver.trading_sessions "
            "where exchange = 'XNYS' and close_at <= current_timestamp() "
            "and session_date > date'2024-12-31' order by session_date desc"
        )
    ]
    assert not freshness.success and freshness.severity == "warning"
    # A session may have closed since the gate ran: count up to the one the gate saw.
    assert found["latest_bar"] == "2024-12-31" and found["latest_closed_session"] in closed[:2]
    assert found["sessions_behind"] == len(closed) - closed.index(found["latest_closed_session"])
    query = freshness.kwargs["unexpected_rows_query"]
    for bar, behind in ((closed[0], 0), (closed[1], 1), (closed[2], 2)):
        batch = f"(select date'{bar}' as trade_date)"
        rows = client.query(query.replace("{batch}", batch))
        assert rows == ([] if behind <= 1 else [(bar, closed[0], 2)]), bar


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
    assert keys[0] == keys[1] > 0
    # Every default delivery and the calendar were registered exactly once.
    batches = client.query("select dataset, count(*) from bronze.batches group by dataset")
    assert dict(batches) == {
        "instruments": 1,
        "corporate_actions": 1,
        "prices_daily": 1,
        "news_articles": 1,
        "news_sentiment": 1,
        "trading_sessions": 1,
    }
    # Each was admitted by its bronze suite: its whole suite passed, on record.
    verdicts = client.query(
        "select b.dataset, b.batch_id, count(g.success), coalesce(bool_and(g.success), false) "
        "from bronze.batches as b left join quality.gate_results as g on g.layer = 'bronze' "
        "and g.partition_range = concat('batch_id=', b.batch_id) group by 1, 2"
    )
    suites = {
        s.table: len(s.definition["expectations"]) for s in load_suites(EXPECTATIONS, "bronze")
    }
    assert {(dataset, n, passed) for dataset, _, n, passed in verdicts} == {
        (dataset, suites[dataset], True) for dataset, _, _, _ in verdicts
    }


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
    assert publisher.served("silver.prices_daily") == history[-2].partitions["silver.prices_daily"]
    assert publisher.served("silver.quarantine") == history[-2].partitions["silver.quarantine"]
    assert snapshot(client, "silver.prices_daily") == rows


def test_negative_close_blocks_promotion_and_leaves_published_unchanged(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {t: snapshot(client, t) for t in PUBLISHED}
    locations = {t: Publisher(client, settings.lake).served(t) for t in PUBLISHED}
    ticker = client.query(
        "select min(ticker) from silver.prices_daily where trade_date = date'2024-06-03'"
    )[0][0]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ticker,trade_date,open,high,low,close,volume\n"
        f"{ticker},2024-06-03,100.0,101.0,99.0,-5.0,1000\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(bad), "--source", "vendor") == 0

    code = _cli(settings, "build")

    out = capsys.readouterr().out
    assert code == cli.EXIT_GATE_BLOCKED
    assert "FAILED  silver__quarantine: Quarantine rate per batch is at most 5%" in out
    assert "line 1: price_not_positive,ohlc_inconsistent" in out
    assert {t: snapshot(client, t) for t in PUBLISHED} == before
    assert {t: Publisher(client, settings.lake).served(t) for t in PUBLISHED} == locations
    # The decision is on record for analysts.
    blocked = client.query(
        "select run_id, observed from quality.gate_results "
        "where blocks and suite = 'silver__quarantine'"
    )
    assert len(blocked) == 1 and '"observed_value": 1' in blocked[0][1]
    recorded = client.query(
        "select count(*) from quality.gate_results "
        f"where run_id = '{blocked[0][0]}' and layer = 'silver'"
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
        f"where ticker = '{ticker}' and trade_date = date'2024-06-03'"
    )[0]
    good.write_text(
        "ticker,trade_date,open,high,low,close,volume\n"
        f"{ticker},2024-06-03," + ",".join(str(v) for v in original) + "\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(good)) == 0
    assert _cli(settings, "build") == cli.EXIT_OK
    assert snapshot(client, "gold.fct_ticker_daily") == before["gold.fct_ticker_daily"]


def test_every_delivered_bar_is_published_quarantined_or_superseded(client: EngineClient) -> None:
    """Reconciliation per bronze batch: nothing lost, nothing counted twice (published,
    quarantined, superseded by a later delivery, or held for review)."""
    rows = client.query("""
        with delivered as (
            select b.batch_id, b.record_count + b.rejected_count as delivered
            from bronze.batches as b where b.dataset = 'prices_daily'
        ),
        published as (
            select batch_id, count(*) as n from silver.prices_daily group by batch_id
        ),
        quarantined as (  -- still rejected (a logged bar a new calendar let through is published)
            select q.batch_id, count(*) as n from silver.quarantine as q
            left anti join silver.prices_daily as s
                on q.batch_id = s.batch_id and q.line_number = s.line_number
            where q.dataset = 'prices_daily' group by q.batch_id
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
        ),
        held as (
            select batch_id, count(*) as n from silver.held_prices group by batch_id
        )
        select d.batch_id, d.delivered, coalesce(p.n, 0), coalesce(q.n, 0), coalesce(s.n, 0),
            coalesce(h.n, 0)
        from delivered as d
        left join published as p on d.batch_id = p.batch_id
        left join quarantined as q on d.batch_id = q.batch_id
        left join superseded as s on d.batch_id = s.batch_id
        left join held as h on d.batch_id = h.batch_id
    """)
    assert len(rows) == 3  # the default data, the bad bar, its correction
    for batch_id, delivered, published, quarantined, superseded, held in rows:
        assert published + quarantined + superseded + held == delivered, batch_id
    assert sorted((r[3], r[4], r[5]) for r in rows) == [(0, 0, 0), (0, 1, 0), (1, 0, 0)]


def _split_day(client: EngineClient, ticker: str) -> tuple[float, float]:
    """Adjusted close and return on 2024-03-06, the split day of the tests below."""
    return client.query(
        "select adj_close, return_1d from gold.fct_ticker_daily "
        f"where ticker = '{ticker}' and trade_date = date'2024-03-06'"
    )[0]


def test_split_without_its_action_is_held_until_the_action_arrives(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = tmp_path / "splt.csv"
    bars.write_text(
        "Ticker,Date,Open,High,Low,Close,Volume\n"
        "SPLT,2024-03-04,100,101,99,100,1000\n"
        "SPLT,2024-03-05,100,102,99,101,1000\n"
        "SPLT,2024-03-06,50.5,51,50,50.6,2000\n"  # a 2-for-1 split nobody told us about
        "SPLT,2024-03-07,50.6,51,50,50.8,2000\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(bars)) == cli.EXIT_OK
    assert _cli(settings, "build") == cli.EXIT_OK  # held, not published as a 50% crash
    out = capsys.readouterr().out
    assert "warning silver__held_prices" in out
    held = client.query(
        "select cast(trade_date as string), cast(jump_date as string) from silver.held_prices "
        "where ticker = 'SPLT' order by trade_date"
    )
    assert held == [("2024-03-06", "2024-03-06"), ("2024-03-07", "2024-03-06")]
    assert client.query(
        "select count(*), max(trade_date) from gold.fct_ticker_daily where ticker = 'SPLT'"
    )[0] == (2, "2024-03-05")

    actions = tmp_path / "splt_actions.csv"
    actions.write_text("Date,Dividends,Stock Splits\n2024-03-06,0,2:1\n")
    assert (
        _cli(settings, "ingest", "corporate-actions", "--file", str(actions), "--ticker", "SPLT")
        == cli.EXIT_OK
    )
    assert _cli(settings, "build") == cli.EXIT_OK

    # `client` is a Thrift session that read these tables before the promotion: it must see
    # the new version (Spark would otherwise serve it its cached relation forever).
    time.sleep(METADATA_CACHE_TTL_S)
    assert client.query("select count(*) from silver.held_prices")[0][0] == 0
    split_day = _split_day(client, "SPLT")
    assert split_day[0] == pytest.approx(50.6)
    assert split_day[1] == pytest.approx(50.6 / (101 / 2) - 1)  # a normal day, not -50%


def test_split_whose_prices_show_no_jump_is_held_until_the_prices_explain_it(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = tmp_path / "actn.csv"
    bars.write_text(
        "Ticker,Date,Open,High,Low,Close,Volume\n"
        "ACTN,2024-03-04,100,101,99,100,1000\n"
        "ACTN,2024-03-05,100,102,99,101,1000\n"
        "ACTN,2024-03-06,101,102,100,100.5,1000\n"  # a 2-for-1 ex-date, but no jump
        "ACTN,2024-03-07,100.5,102,100,101,1000\n"
    )
    actions = tmp_path / "actn_actions.csv"
    actions.write_text("Date,Dividends,Stock Splits\n2024-03-06,0,2:1\n")
    assert _cli(settings, "ingest", "prices", "--file", str(bars)) == cli.EXIT_OK
    assert (
        _cli(settings, "ingest", "corporate-actions", "--file", str(actions), "--ticker", "ACTN")
        == cli.EXIT_OK
    )
    assert _cli(settings, "build") == cli.EXIT_OK  # held, not adjusted into a false move
    assert "warning silver__held_prices" in capsys.readouterr().out
    held = client.query(
        "select cast(trade_date as string), cast(jump_date as string), rule_id, reason "
        "from silver.held_prices where ticker = 'ACTN' order by trade_date"
    )
    assert [row[:3] for row in held] == [
        ("2024-03-06", "2024-03-06", "split_without_jump"),
        ("2024-03-07", "2024-03-06", "split_without_jump"),
    ]
    assert "split 2.0 in corporate_actions without a price jump" in held[0][3]
    assert client.query(
        "select count(*), max(adj_close) from gold.fct_ticker_daily where ticker = 'ACTN'"
    )[0] == (2, 101.0)  # unadjusted: the split does not apply before its ex-date is published

    # The vendor restates the bars from the ex-date: now the split explains the jump.
    corrected = tmp_path / "actn_corrected.csv"
    corrected.write_text(
        "Ticker,Date,Open,High,Low,Close,Volume\n"
        "ACTN,2024-03-06,50.5,51,50,50.25,2000\n"
        "ACTN,2024-03-07,50.25,51,50,50.5,2000\n"
    )
    assert _cli(settings, "ingest", "prices", "--file", str(corrected)) == cli.EXIT_OK
    assert _cli(settings, "build") == cli.EXIT_OK
    time.sleep(METADATA_CACHE_TTL_S)
    assert client.query("select count(*) from silver.held_prices where ticker = 'ACTN'")[0][0] == 0
    split_day = _split_day(client, "ACTN")
    assert split_day[0] == pytest.approx(50.25)
    assert split_day[1] == pytest.approx(50.25 / (101 / 2) - 1)


def test_a_released_split_without_a_jump_adjusts_every_earlier_month(
    settings: Settings, client: EngineClient, tmp_path: Path
) -> None:
    """The operator says the split is right: it then applies to the whole history, also to
    months an incremental build would otherwise keep."""
    bars = tmp_path / "rlse.csv"
    days = ["2024-02-28", "2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]
    bars.write_text(
        "Ticker,Date,Open,High,Low,Close,Volume\n"
        + "".join(f"RLSE,{day},100,101,99,100,1000\n" for day in days)
    )
    actions = tmp_path / "rlse_actions.csv"
    actions.write_text("Date,Dividends,Stock Splits\n2024-03-06,0,2:1\n")
    assert _cli(settings, "ingest", "prices", "--file", str(bars)) == cli.EXIT_OK
    assert (
        _cli(settings, "ingest", "corporate-actions", "--file", str(actions), "--ticker", "RLSE")
        == cli.EXIT_OK
    )
    assert _cli(settings, "build") == cli.EXIT_OK
    assert client.query("select count(*) from silver.held_prices where ticker = 'RLSE'")[0][0] == 1

    release = ("release", "--ticker", "RLSE", "--date", "2024-03-06")
    reason = ("--reason", "the vendor confirms the split; its prices were already adjusted")
    assert _cli(settings, *release, "--rule", "split_without_jump", *reason) == cli.EXIT_OK
    assert _cli(settings, "build") == cli.EXIT_OK
    time.sleep(METADATA_CACHE_TTL_S)
    factors = client.query(
        "select cast(trade_date as string), adj_factor from silver.prices_daily "
        "where ticker = 'RLSE' order by trade_date"
    )
    assert factors == [(day, 0.5) for day in days[:-1]] + [(days[-1], 1.0)]


def test_restating_settled_history_over_budget_blocks_until_released(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ticker = client.query(
        "select min(ticker) from silver.prices_daily where trade_date = date'2024-02-01'"
    )[0][0]
    history = client.query(
        "select cast(trade_date as string), open, high, low, close, volume "
        f"from silver.prices_daily where ticker = '{ticker}' "
        "and trade_date >= date'2024-02-01' order by trade_date limit 21"
    )
    restated = tmp_path / "restated.csv"
    restated.write_text(
        "ticker,trade_date,open,high,low,close,volume\n"
        + "".join(
            f"{ticker},{day},{o * 1.01:.4f},{h * 1.01:.4f},{lo * 1.01:.4f},{c * 1.01:.4f},{v}\n"
            for day, o, h, lo, c, v in history
        )
    )
    before = {t: snapshot(client, t) for t in PUBLISHED}
    assert _cli(settings, "ingest", "prices", "--file", str(restated)) == cli.EXIT_OK

    assert _cli(settings, "build") == cli.EXIT_GATE_BLOCKED
    out = capsys.readouterr().out
    assert "FAILED  silver__restatements: Restatement budget" in out
    assert '"settled_bars_restated":21' in out and f'"oldest_bar":"{history[0][0]}"' in out
    assert {t: snapshot(client, t) for t in PUBLISHED} == before

    # An operator accepts one bar: 20 left, within the budget; the delivery is published.
    assert (
        _cli(
            settings,
            *("release", "--ticker", ticker, "--date", history[-1][0]),
            *("--rule", "restatement_budget", "--reason", "vendor corrected February"),
        )
        == cli.EXIT_OK
    )
    assert _cli(settings, "build") == cli.EXIT_OK
    time.sleep(METADATA_CACHE_TTL_S)
    published = client.query(
        f"select close from silver.prices_daily where ticker = '{ticker}' "
        f"and trade_date between date'{history[0][0]}' and date'{history[-1][0]}' "
        "order by trade_date"
    )
    assert [c for (c,) in published] == [float(f"{row[4] * 1.01:.4f}") for row in history]


def test_a_delivery_over_the_quarantine_rate_publishes_its_passing_rows_once_released(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = client.query(
        "select ticker, cast(trade_date as string), open, high, low, close, volume "
        "from silver.prices_daily where trade_date = date'2024-05-01' order by ticker limit 10"
    )
    assert len(bars) == 10
    partial = tmp_path / "partial.csv"
    partial.write_text(  # the same bars again, the first with a negative close: a 10% rate
        "ticker,trade_date,open,high,low,close,volume\n"
        + "".join(
            f"{t},{d},{o},{h},{lo},{-5.0 if i == 0 else c},{v}\n"
            for i, (t, d, o, h, lo, c, v) in enumerate(bars)
        )
    )
    assert _cli(settings, "ingest", "prices", "--file", str(partial), "--source", "partial") == 0
    ((batch_id,),) = client.query("select batch_id from bronze.batches where source = 'partial'")
    before = {t: snapshot(client, t) for t in PUBLISHED}

    assert _cli(settings, "build") == cli.EXIT_GATE_BLOCKED
    out = capsys.readouterr().out
    assert "FAILED  silver__quarantine: Quarantine rate per batch" in out and batch_id in out
    assert {t: snapshot(client, t) for t in PUBLISHED} == before

    release = ("release", "--batch", batch_id, "--rule", "quarantine_rate")
    assert _cli(settings, *release, "--reason", "vendor confirmed the other nine") == 0
    assert _cli(settings, "build") == cli.EXIT_OK
    time.sleep(METADATA_CACHE_TTL_S)
    published = client.query(
        "select ticker, batch_id from silver.prices_daily where trade_date = date'2024-05-01' "
        f"and ticker in ({', '.join(repr(b[0]) for b in bars)}) order by ticker"
    )
    # Nine bars come from the released delivery; the rejected one keeps its earlier bar.
    assert [b == batch_id for _, b in published] == [False] + [True] * 9
    assert client.query(
        "select line_number, resolved_when_logged from silver.quarantine "
        f"where batch_id = '{batch_id}'"
    ) == [(1, False)]


def test_vendor_exports_land_unchanged_and_are_queryable_from_bronze(
    settings: Settings, client: EngineClient, tmp_path: Path
) -> None:
    yahoo_style = tmp_path / "VNDA.csv"
    yahoo_style.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-04-01,10.00,10.50,9.90,10.25,10.20,12345\n"
        "2024-04-02,10.25,10.40,10.00,10.10,10.05,23456\n"
    )
    ticker_first = tmp_path / "multi.csv.gz"
    ticker_first.write_bytes(
        gzip.compress(
            b"Ticker,Date,Open,High,Low,Close,Adj Close,Volume\n"
            b"VNDB,2024-04-01,20.0,21.0,19.5,20.5,20.4,500\n"
        )
    )
    assert (
        _cli(
            settings,
            "ingest",
            "prices",
            "--file",
            str(yahoo_style),
            "--ticker",
            "VNDA",
            "--source",
            "yahoo",
        )
        == cli.EXIT_OK
    )
    assert _cli(settings, "ingest", "prices", "--file", str(ticker_first)) == cli.EXIT_OK

    rows = client.query(
        "select ticker, trade_date, open, close, adj_close, volume, line_number, source "
        "from bronze.prices_daily where ticker in ('VNDA', 'VNDB') order by ticker, trade_date"
    )
    assert rows == [
        ("VNDA", "2024-04-01", "10.00", "10.25", "10.20", "12345", "1", "yahoo"),
        ("VNDA", "2024-04-02", "10.25", "10.10", "10.05", "23456", "2", "yahoo"),
        ("VNDB", "2024-04-01", "20.0", "20.5", "20.4", "500", "1", "vendor"),
    ]
    manifests = client.query(
        "select b.record_count, b.rejected_count from bronze.batches as b "
        "where b.batch_id in (select batch_id from bronze.prices_daily "
        "where ticker in ('VNDA', 'VNDB')) order by 1"
    )
    assert manifests == [(1, 0), (2, 0)]
