"""The dbt project as analysts use it: docs generate, the analyses compile and run, and
the dbt unit tests pass on the engine."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from marketpulse.config import Settings
from marketpulse.engine import EngineClient
from marketpulse.pipeline import BuildReport, Pipeline, read_layer_build


def _dbt(settings: Settings, target_path: Path, *args: str) -> str:
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), *args, "--profiles-dir", "profiles", "--target-path", str(target_path)],
        cwd=settings.project_dir,
        env=settings.dbt_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def test_docs_generate_documents_every_model(
    settings: Settings, default_run: BuildReport, tmp_path: Path
) -> None:
    _dbt(settings, tmp_path, "docs", "generate")
    assert (tmp_path / "catalog.json").exists() and (tmp_path / "index.html").exists()


def test_analyses_compile_and_return_rows(
    settings: Settings, client: EngineClient, default_run: BuildReport, tmp_path: Path
) -> None:
    _dbt(settings, tmp_path, "compile", "--select", "resource_type:analysis")
    compiled = sorted((tmp_path / "compiled").rglob("analyses/*.sql"))
    assert {p.stem for p in compiled} == {
        "top_movers",
        "sector_rotation",
        "sentiment_vs_next_day_return",
    }
    for path in compiled:
        sql = path.read_text()
        assert "gold_audit" not in sql  # analysts read published gold
        assert client.query(sql), path.stem


def test_dbt_unit_tests_run_on_the_engine_and_pass(
    settings: Settings, default_run: BuildReport, tmp_path: Path
) -> None:
    """Split adjustment, returns across a split, news-to-session assignment, the
    restatement winner and the signal's next return, on fixtures
    (models/*/_*__unit_tests.yml)."""
    _dbt(settings, tmp_path, "test", "--select", "test_type:unit")
    results = json.loads((tmp_path / "run_results.json").read_text())["results"]
    assert {r["unique_id"].rsplit(".", 1)[1]: r["status"] for r in results} == {
        "news_counts_for_the_first_session_closing_after_it": "pass",
        "returns_across_a_split_use_adjusted_prices": "pass",
        "splits_adjust_earlier_bars_and_dividends_do_not": "pass",
        "a_later_delivery_restates_and_wins": "pass",
        "the_signal_pairs_a_session_with_the_next_return": "pass",
    }


def test_dbt_waits_on_the_engine_without_a_busy_loop(
    settings: Settings, default_run: BuildReport, tmp_path: Path
) -> None:
    """The profile polls with poll_interval 0: it relies on the Thrift server holding each
    status poll until the statement ends or 5 s pass. A 5.5-second statement is then
    polled once or twice, not in a tight loop, and no 5-second sleep (dbt-spark's default
    interval) follows the first poll. It does not tell 0 from 1: the statement ends within
    the second poll's hold either way."""
    sleep = "select reflect('java.lang.Thread', 'sleep', bigint(5500)) as slept"
    # Without the relation cache, the statement is the only one dbt sends.
    _dbt(
        settings,
        tmp_path,
        "show",
        "--inline",
        sleep,
        "--no-populate-cache",
        "--log-path",
        str(tmp_path),
    )
    log = (tmp_path / "dbt.log").read_text()
    assert 1 <= log.count("Poll status: 1, sleeping") <= 2
    [elapsed] = re.findall(r"SQL status: OK in ([0-9.]+) seconds", log)
    # With a 5-second interval: a 5-second hold, a 5-second sleep, so at least 10 s.
    assert 5.5 <= float(elapsed) < 10


def test_the_build_reads_partitioning_from_the_models_configs(
    settings: Settings, default_run: BuildReport
) -> None:
    """Which tables keep older months and which may lose one comes from each model's
    config in dbt's manifest, not from a list in Python."""
    run_dir = Pipeline(settings).lake.runs / default_run.run_id / "dbt_gold"
    gold = read_layer_build(run_dir, "gold", 0)
    assert gold.partitioned == {
        "fct_ticker_daily": "trade_month",
        "fct_market_daily": "trade_month",
        "fct_sector_daily": "trade_month",
        "fct_ticker_sentiment_daily": "trade_month",
        "fct_sentiment_signal": "trade_month",
    }
    assert "dim_instruments" in gold.tables
    assert gold.sparse == ("fct_ticker_sentiment_daily",)  # rows only for sessions with news
    assert gold.skipped == ()  # nothing blocked the default run
    assert gold.checks and all(c.success for c in gold.checks if c.severity == "critical")
    # A dbt data test names the audit table it checked, as a GX outcome does.
    tested = {c.table for c in gold.checks}
    assert "gold_audit.fct_ticker_daily" in tested
    assert tested <= {f"gold_audit.{t}" for t in gold.tables} | {""}


def _bars(*bars: tuple[str, str]) -> str:
    """A prices relation of (ticker, trade_date) bars."""
    rows = ", ".join(f"('{t}', date'{d}', '{d[:7]}')" for t, d in bars)
    return f"(select * from values {rows} as bars(ticker, trade_date, trade_month))"


def _context_floor(settings: Settings, tmp_path: Path, bars: list[tuple[str, str]]) -> str:
    spans = (
        f"(select ticker, min(trade_date) as first_bar_date from {_bars(*bars)} group by ticker)"
    )
    call = f"mp_context_floor({_bars(*bars)!r}, '2024-06', 3, {spans!r})"
    out = _dbt(
        settings,
        tmp_path,
        "show",
        "--inline",
        f"select '{{{{ {call} }}}}' as floor",
        "--output",
        "json",
        "--quiet",
    )
    return json.loads(out)["show"][0]["floor"]


def test_the_context_floor_counts_recent_months_first_and_all_for_a_long_halt(
    settings: Settings, tmp_path: Path
) -> None:
    """Where a windowed build's 3-bar context starts (from June): a ticker trading every
    month and a new listing are answered from the recent months; a ticker halted for a
    year needs its older bars, which only counting every month finds."""
    trading = [
        ("A", "2024-04-02"),
        ("A", "2024-04-03"),
        ("A", "2024-05-02"),
        ("A", "2024-05-03"),
        ("A", "2024-06-03"),
    ]
    listed = [("B", "2024-05-20"), ("B", "2024-06-03")]
    delisted = [("D", "2020-01-02")]  # no bar from June on: needs no context
    halted = [
        ("C", "2023-01-03"),
        ("C", "2023-01-04"),
        ("C", "2023-01-05"),
        ("C", "2024-05-02"),
        ("C", "2024-06-03"),
    ]
    assert _context_floor(settings, tmp_path, trading + listed + delisted) == "2024-04"
    assert _context_floor(settings, tmp_path, listed) == "2024-05"
    assert _context_floor(settings, tmp_path, trading + listed + halted) == "2023-01"
    assert _context_floor(settings, tmp_path, delisted) == "2024-06"


def test_the_ema_weighs_exactly_the_last_400_rows(
    settings: Settings, client: EngineClient, tmp_path: Path
) -> None:
    """mp_ema's window sums against the definition, sum(d^k x[t-k]) / sum(d^k) over the
    last 400 rows: two series, one reaching a third block of 400 rows (both parities of
    anchor, and a block after each), one ending in its second. Span 200 weighs the 400th
    row back at 2% of the newest, so a frame one row off fails; spans 12 and 26 are the
    model's."""
    series = ["a"] * 1000 + ["b"] * 450
    query = """
        with series as (
            select name, pos, 100 * exp(0.3 * sin(pos * 0.7) + 0.002 * pos) as x
            from (
                select 'a' as name, explode(sequence(1, 1000)) as pos
                union all select 'b' as name, explode(sequence(1, 450)) as pos
            )
        ), weighted as (
            select *,
                {{ mp_ema_weighted('e12', 'x', 'pos', 12, 400) }},
                {{ mp_ema_weighted('e26', 'x', 'pos', 26, 400) }},
                {{ mp_ema_weighted('e200', 'x', 'pos', 200, 400) }}
            from series
        ), summed as (
            select *,
                {{ mp_ema_sums('e12', 400, 'name', 'pos') }},
                {{ mp_ema_sums('e26', 400, 'name', 'pos') }},
                {{ mp_ema_sums('e200', 400, 'name', 'pos') }}
            from weighted
        )
        select name, pos, x,
            {{ mp_ema('e12', 'pos', 12, 400) }} as ema_12,
            {{ mp_ema('e26', 'pos', 26, 400) }} as ema_26,
            {{ mp_ema('e200', 'pos', 200, 400) }} as ema_200
        from summed order by name, pos
    """
    compiled = _dbt(settings, tmp_path, "compile", "--inline", query, "--quiet")
    rows = client.query(compiled)
    assert [r[0] for r in rows] == series
    for name in ("a", "b"):
        found = [r for r in rows if r[0] == name]
        x = np.array([r[2] for r in found])
        for span, column in ((12, 3), (26, 4), (200, 5)):
            decay = 1 - 2 / (span + 1)
            weights = decay ** np.arange(400)
            want = [
                np.dot(weights[: t + 1], x[t::-1][:400]) / weights[: t + 1].sum()
                for t in range(len(x))
            ]
            got = np.array([r[column] for r in found])
            np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=f"{name} span {span}")
            assert got[0] == x[0]  # the first average is the value itself
