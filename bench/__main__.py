"""`python -m bench [--quick]`: run the workloads, write results.json and results.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import workloads
from bench.measure import STAGE_ORDER

# Each W1 size also yields W2 points (its last sessions, each built alone; the median
# counts); W2's ratio compares the same ticker count over different history lengths.
QUICK = {"w1": [(10, 1)], "poll_intervals": [0], "w2_sessions": 1}
FULL = {
    "w1": [(100, 1), (100, 5), (100, 10), (100, 20)],
    "poll_intervals": [0, 1],
    "w2_sessions": 3,
}


def _size(text: str) -> tuple[int, int]:
    tickers, years = text.lower().split("x")
    return int(tickers), int(years)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke sizes (runs in make test)")
    parser.add_argument("--w1", type=_size, nargs="+", help="W1 sizes as TICKERSxYEARS")
    parser.add_argument("--no-peers", action="store_true", help="skip the DuckDB/PySpark peers")
    parser.add_argument(
        "--w2-sessions", type=int, help="sessions built one at a time after each W1 (median)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    plan["w1"] = args.w1 or plan["w1"]
    if args.w2_sessions is not None:
        if args.w2_sessions < 1:
            parser.error("--w2-sessions must be at least 1")
        plan["w2_sessions"] = args.w2_sessions

    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[bench {time.perf_counter() - started:7.1f}s] {message}", flush=True)

    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "plan": plan,
        "w1": [],
    }
    scratch = Path(tempfile.mkdtemp(prefix="marketpulse-bench-"))
    try:
        for tickers, years in plan["w1"]:
            results["w1"].append(
                workloads.w1_backfill(
                    scratch / f"w1_{tickers}x{years}",
                    tickers,
                    years,
                    say,
                    with_peers=not args.no_peers,
                    poll_intervals=tuple(plan["poll_intervals"]),
                    w2_sessions=plan["w2_sessions"],
                )
            )
        results["w2"] = workloads.w2_summary(results["w1"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    (args.out / "results.md").write_text(markdown(results))
    say(f"wrote {args.out / 'results.json'} and {args.out / 'results.md'}")
    print(markdown(results))
    return 0


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"# MarketPulse benchmark ({r['started_at']}, {r['machine']['cpus']} CPUs)",
        "",
        "## W1 full backfill — seconds per stage",
        "",
        "| run | bars | " + " | ".join(STAGE_ORDER) + " | total | bars/s | "
        "Spark jobs per gate (silver/gold) | peak RSS MB (python / dbt / JVM) |",
        "|" + "---|" * (len(STAGE_ORDER) + 6),
    ]
    for w1 in r["w1"]:
        lines.append(_run_row(w1["run"]))
    lines += ["", "### Peers (price path on the same bronze files)", ""]
    lines += [
        "| run | project pipeline s | project price-path models s | DuckDB s | "
        "PySpark s | same gold numbers | pipeline / PySpark | price-path models / PySpark | "
        "pipeline / DuckDB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w1 in r["w1"]:
        p = w1.get("peers")
        if not p:
            continue
        same = p["duckdb"]["same_gold_numbers"] and p["pyspark"]["same_gold_numbers"]
        lines.append(
            f"| {w1['run']['label']} | {p['project_pipeline_s']} | "
            f"{p['project_price_path_models_s']} | {p['duckdb']['seconds']} | "
            f"{p['pyspark']['seconds']} | {'yes' if same else 'NO'} | "
            f"{_ratio(p['project_pipeline_s'], p['pyspark']['seconds'])} | "
            f"{_ratio(p['project_price_path_models_s'], p['pyspark']['seconds'])} | "
            f"{_ratio(p['project_pipeline_s'], p['duckdb']['seconds'])} |"
        )
    lines += ["", "## W2 one new session on top of history", ""]
    lines += [
        "Each history gets its last sessions delivered and built one at a time; the row is the "
        "build of median total time, and the ratio compares medians.",
        "",
    ]
    lines += lines[4:6]  # the same columns as W1
    for w1 in r["w1"]:
        lines.append(_run_row(w1["increment"]))
    lines += [""]
    for w1 in r["w1"]:
        totals = w1["increment"].get("sessions_total_s", [w1["increment"]["total_s"]])
        lines.append(
            f"- {w1['tickers']} tickers x {w1['years']}y: total per session, in delivery order "
            + ", ".join(f"{t} s" for t in totals)
        )
    lines += [
        "",
        "Cost of one new session (median), longest / shortest history: "
        + (", ".join(f"{k} = {v}" for k, v in r["w2"]["ratios"].items()) or "one history only")
        + f" (target {r['w2']['target']}).",
        "",
        "## W3 gate cost",
        "",
    ]
    lines += [
        "| run | layer | build s | gate s | gate / build | expectations | "
        "GX default usage s | speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w1 in r["w1"]:
        for layer, g in w1["w3"].items():
            lines.append(
                f"| {w1['run']['label']} | {layer} | {g['build_s']} | {g['gate_s']} | "
                f"{g['gate_share_of_build']:.0%} | {g['expectations']} | "
                f"{g['gx_default_usage_s']} | {g['speedup_vs_gx_default']}x |"
            )
    lines += ["", "## W4 dbt per-model overhead (gold, one thread, dbt - its CTAS statement)", ""]
    lines += [
        "| run | mean overhead per model s | per model (s) | gold `dbt run` wall s by "
        "poll_interval |",
        "|---|---|---|---|",
    ]
    for w1 in r["w1"]:
        w4 = w1["w4"]
        models = ", ".join(f"{m} {v['overhead_s']}" for m, v in w4["models"].items())
        walls = ", ".join(
            f"{k}s: {' / '.join(map(str, v))}"
            for k, v in w4["gold_dbt_run_wall_s_by_poll_interval"].items()
        )
        lines.append(
            f"| {w1['run']['label']} | {w4['mean_overhead_per_model_s']} | {models} | {walls} |"
        )
    lines += ["", f"Whole benchmark: {r['wall_s']} s.", ""]
    return "\n".join(lines)


def _run_row(run: dict[str, Any]) -> str:
    stages = " | ".join(str(round(run["stages_s"].get(s, 0.0), 1)) for s in STAGE_ORDER)
    jobs = "/".join(str(v) for v in run["spark_jobs_per_gate"].values())
    rss = " / ".join(str(round(v)) for v in run["peak_rss_mb"].values())
    return (
        f"| {run['label']} | {run['bars']:,} | {stages} | {run['total_s']:.1f} | "
        f"{run['bars_per_s']:,.0f} | {jobs} | {rss} |"
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


if __name__ == "__main__":
    sys.exit(main())
