"""The benchmark harness's smoke size runs end to end (its figures are not asserted: speed is
measured by `make bench`, never by tests) and its peers agree with the project's gold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.measure import STAGE_ORDER


def test_quick_bench_measures_every_stage_and_checks_its_peers(tmp_path: Path) -> None:
    root = Path(__file__).parents[2]
    subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=root,
        check=True,
        timeout=1800,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    (w1,) = results["w1"]
    run = w1["run"]
    assert run["bars"] > 2000
    assert set(run["stages_s"]) == set(STAGE_ORDER)
    assert all(seconds > 0 for seconds in run["stages_s"].values())
    assert run["spark_jobs_per_gate"]["silver"] > 0 and run["spark_jobs_per_gate"]["gold"] > 0
    assert set(run["peak_rss_mb"]) == {"python", "dbt", "engine JVM"}
    assert all(mb > 0 for mb in run["peak_rss_mb"].values())
    # A peer's time counts only once it reproduced the project's gold numbers.
    for peer in ("duckdb", "pyspark"):
        assert w1["peers"][peer]["same_gold_numbers"], w1["peers"][peer]["problems"]
    # W2: the held-back last session (a bar per ticker listed on it), built on its own.
    assert 0 < w1["increment"]["bars"] <= w1["tickers"]
    assert set(w1["increment"]["stages_s"]) == set(STAGE_ORDER)
    # ... and rebuilt only the month it falls in.
    assert w1["increment"]["rebuild_from"] == {"silver": "2024-12-01", "gold": "2024-12-01"}
    models = w1["increment"]["model_s"]
    assert set(models) == {"silver", "gold"} and models["gold"]["fct_ticker_daily"] > 0
    assert set(w1["w3"]) == {"silver", "gold"}
    assert all(g["expectations"] > 0 and g["gx_default_usage_s"] > 0 for g in w1["w3"].values())
    # W4: every gold model's CTAS found in dbt's own log and taken out of its time.
    w4 = w1["w4"]["models"]
    assert set(w4) == set(models["gold"])
    for timed in w4.values():
        assert 0 < timed["query_s"] <= timed["dbt_s"] and timed["other_statements_s"] >= 0
        assert "drop table" in timed["other_statements_by_opening_s"]  # dbt-spark drops first
    table = (tmp_path / "results.md").read_text()
    assert "## W1 full backfill" in table and "## W3 gate cost" in table
