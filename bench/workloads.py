"""The workloads: W1 backfill (+ peers), W2 incremental vs history, W3 gate cost, W4 dbt
per-model overhead. Each returns a JSON-able dict."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import peers
from bench.measure import BenchLake, RunMeasure, registered_bars, timed
from marketpulse.gates import DATASOURCE, Gate, load_suites
from marketpulse.ingestion.simulator import Delivery, SimulationConfig, session_window, simulate
from marketpulse.pipeline import BuildReport, _dbt_executable

Say = Callable[[str], None]
END = date(2024, 12, 31)
NEWS = ("news_articles", "news_sentiment")  # in delivery order: an article before its scores


def market(tickers: int, years: int, **extra: Any) -> SimulationConfig:
    return SimulationConfig(
        tickers=tickers, start=date(END.year - years + 1, 1, 2), end=END, **extra
    )


# --- W1 --------------------------------------------------------------------------------------
def w1_backfill(
    home: Path,
    tickers: int,
    years: int,
    say: Say,
    with_peers: bool,
    poll_intervals: tuple[int, ...] = (0,),
    w2_sessions: int = 1,
) -> dict[str, Any]:
    """Backfill every session but the last `w2_sessions` (W1); W3, W4 and the peers measure
    that state; then those sessions arrive one at a time with their news, each built alone
    (W2 points for this history: their median is the one compared, as one build moves by
    ~10% between runs on a shared machine)."""
    sessions = session_window(market(tickers, years).start, END)
    backfill = sessions.last - sessions.first + 1 - w2_sessions
    # The simulator cuts prices every `backfill` sessions: the last cut holds exactly the
    # W2 sessions only if the backfill is at least as long.
    if w2_sessions < 1 or backfill < w2_sessions:
        raise ValueError(f"{years}y has too few sessions for {w2_sessions} W2 sessions")
    config = market(tickers, years, batch_sessions=backfill)
    with BenchLake(home, say) as lake:
        measure = RunMeasure(label=f"W1 {tickers} tickers x {years}y", bars=0)
        say(f"W1: simulate and land {tickers} tickers x {years} years")
        deliveries = list(simulate(config))
        tail = [d for d in deliveries if d.dataset == "prices_daily"][-1]
        w2_days = by_session(tail.records)
        deliveries, w2_news = hold_back_news(deliveries, [day for day, _ in w2_days])
        with timed(measure, "ingest"):
            for d in deliveries:
                if d is not tail:
                    lake.pipeline.ingest(
                        d.dataset, d.source, d.records, rejections=d.rejections, register=False
                    )
        with timed(measure, "bronze gate"):
            lake.pipeline.register_pending()
        measure.bars = registered_bars(lake)
        say(f"W1: build, gate, publish {measure.bars:,} bars")
        report = lake.measure_build(measure)
        result: dict[str, Any] = {"tickers": tickers, "years": years, "run": measure.as_dict()}
        result["w3"] = w3_gate_cost(lake, report, say)
        result["w4"] = w4_model_overhead(lake, say, poll_intervals)
        if with_peers:
            result["peers"] = compare_peers(lake, measure, report, say)

        increments = []
        for day, records in w2_days:
            news = w2_news[day]
            say(
                f"W2: the session of {day} with {len(news['news_articles'])} articles alone "
                f"on top of {years}y"
            )
            increment = RunMeasure(label=f"W2 +1 session ({day}) on {tickers} x {years}y", bars=0)
            with timed(increment, "ingest"):
                landed = lake.pipeline.ingest(tail.dataset, tail.source, records, register=False)
                for dataset in NEWS:
                    if news[dataset]:
                        lake.pipeline.ingest(dataset, "bench_w2", news[dataset], register=False)
            with timed(increment, "bronze gate"):
                lake.pipeline.register_pending()
            increment.bars = landed.manifest.record_count
            built = lake.measure_build(increment)
            increments.append(
                {
                    **increment.as_dict(),
                    "session": day,
                    "articles": len(news["news_articles"]),
                    "scores": len(news["news_sentiment"]),
                    "rebuild_from": {layer: m.rebuild_from for layer, m in built.published.items()},
                    "model_s": model_seconds(lake, built),
                }
            )
        result["increments"] = increments
        result["increment"] = median_increment(increments)
    return result


def by_session(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """A delivery's bars as one delivery per session, in session order, each numbered from 1
    as its own delivery."""
    sessions: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        bars = sessions.setdefault(str(record["trade_date"]), [])
        bars.append({**record, "line_number": len(bars) + 1})
    return sorted(sessions.items())


def hold_back_news(
    deliveries: list[Delivery], days: list[str]
) -> tuple[list[Delivery], dict[str, dict[str, list[Mapping[str, Any]]]]]:
    """The news deliveries without what was published on or after the first of `days` (the
    W2 sessions, in order), which each of those sessions brings instead, as a daily feed
    does: the articles published (UTC date) since the session before, and their scores.
    Every delivery's lines are numbered from 1."""
    held: dict[str, dict[str, list[Mapping[str, Any]]]] = {d: {n: [] for n in NEWS} for d in days}
    session_of: dict[str, str] = {}  # a held-back article's W2 session
    kept = []
    for delivery in deliveries:
        if delivery.dataset not in NEWS:
            kept.append(delivery)
            continue
        backfill: list[Mapping[str, Any]] = []
        for record in delivery.records:
            if delivery.dataset == "news_articles":
                published = datetime.fromisoformat(record["published_at"]).astimezone(UTC)
                day = published.date().isoformat()
                if day >= days[0]:
                    session_of[record["article_id"]] = next((d for d in days if day <= d), days[-1])
            lines = (
                held[session_of[record["article_id"]]][delivery.dataset]
                if record["article_id"] in session_of
                else backfill
            )
            lines.append({**record, "line_number": len(lines) + 1})
        kept.append(replace(delivery, records=backfill))
    return kept, held


def median_increment(increments: list[dict[str, Any]]) -> dict[str, Any]:
    """The W2 build of median total time (the lower middle one of an even count), with every
    measured session's total beside it."""
    ranked = sorted(increments, key=lambda i: i["total_s"])
    median = ranked[(len(ranked) - 1) // 2]
    return {**median, "sessions_total_s": [i["total_s"] for i in increments]}


def w2_summary(w1_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Cost of one new session against history length, per ticker count."""
    ratios = {}
    for tickers in sorted({r["tickers"] for r in w1_runs}):
        runs = sorted((r for r in w1_runs if r["tickers"] == tickers), key=lambda r: r["years"])
        if len(runs) > 1:
            first, last = runs[0], runs[-1]
            ratios[f"{tickers} tickers: {last['years']}y / {first['years']}y"] = round(
                last["increment"]["total_s"] / first["increment"]["total_s"], 3
            )
    return {"ratios": ratios, "target": "<= 1.10 (20y / 1y)"}


def compare_peers(
    lake: BenchLake, measure: RunMeasure, report: BuildReport, say: Say
) -> dict[str, Any]:
    import pandas as pd

    files = peers.BronzeFiles.of(lake.settings.lake.raw)
    columns = ", ".join([*peers.KEY, *peers.COMPARED])
    rows = lake.client().query(f"select {columns} from gold.fct_ticker_daily")
    project = pd.DataFrame(rows, columns=[*peers.KEY, *peers.COMPARED])
    price_path = _price_path_seconds(lake, report)
    out: dict[str, Any] = {
        # The peers start from the landed files, as the project's builds do.
        "project_pipeline_s": round(
            measure.total_s - measure.stages["ingest"] - measure.stages["bronze gate"], 3
        ),
        "project_price_path_models_s": round(price_path, 3),
    }
    cores = os.cpu_count() or 1
    for name, run in (
        ("duckdb", lambda: peers.run_duckdb(files, threads=cores)),
        ("pyspark", lambda: peers.run_pyspark(files, cores=cores, memory="4g")),
    ):
        say(f"peer {name}: the price path on the same bronze files")
        seconds, frame = run()
        problems = peers.mismatches(project, frame)
        out[name] = {
            "seconds": round(seconds, 3),
            "same_gold_numbers": not problems,
            "problems": problems,
        }
        if problems:
            say(f"peer {name} does NOT match the project's gold: {problems}; its time is void")
    return out


def _price_path_seconds(lake: BenchLake, report: BuildReport) -> float:
    """dbt's own execution time for the models on the price path (the peers' scope)."""
    names = {
        "int_prices_daily_checked",
        "int_corporate_actions_checked",
        "corporate_actions",
        "held_prices",
        "prices_daily",
        "fct_ticker_daily",
    }
    per_model = model_seconds(lake, report)
    return sum(s for models in per_model.values() for m, s in models.items() if m in names)


def model_seconds(lake: BenchLake, report: BuildReport) -> dict[str, dict[str, float]]:
    """dbt's execution time per model of each layer a build ran, slowest first: where a
    build's time goes."""
    out = {}
    for layer in report.gates:
        results = lake.settings.lake.runs / report.run_id / f"dbt_{layer}" / "run_results.json"
        models = [
            (r["unique_id"].split(".")[-1], round(r["execution_time"], 3))
            for r in json.loads(results.read_text())["results"]
            if r["unique_id"].startswith("model.")
        ]
        out[layer] = dict(sorted(models, key=lambda m: -m[1]))
    return out


# --- W3 --------------------------------------------------------------------------------------
def w3_gate_cost(lake: BenchLake, report: BuildReport, say: Say) -> dict[str, Any]:
    """Gate time as a share of the build it guards, and GX's default usage on the same checks."""
    out: dict[str, Any] = {}
    for layer in report.gates:
        build = _span(report, f"{layer} build")
        gate = _span(report, f"{layer} gate")
        say(f"W3: {layer} checks the GX default way (one validation per expectation)")
        default_s, count = gx_default_usage(lake, layer)
        out[layer] = {
            "build_s": round(build, 3),
            "gate_s": round(gate, 3),
            "gate_share_of_build": round(gate / build, 3),
            "expectations": count,
            "gx_default_usage_s": round(default_s, 3),
            "speedup_vs_gx_default": round(default_s / gate, 2),
        }
    return out


def gx_default_usage(lake: BenchLake, layer: str) -> tuple[float, int]:
    """The way GX's docs validate: a suite, a validation definition and `run()` (SUMMARY
    results), one per expectation, against the same audit tables."""
    import great_expectations as gx

    gate = Gate(lake.settings, progress=lambda _m: None)
    context = gate._context()
    datasource = context.data_sources.get(DATASOURCE)
    started, count = time.perf_counter(), 0
    for suite in load_suites(lake.settings.project_dir / "expectations", layer):
        asset_name = f"bench__{suite.audit_schema}.{suite.table}"
        if asset_name in {a.name for a in datasource.assets}:
            datasource.delete_asset(asset_name)
        asset = datasource.add_table_asset(
            name=asset_name, table_name=suite.table, schema_name=suite.audit_schema
        )
        batch = asset.add_batch_definition_whole_table("whole table")
        for number, spec in enumerate(suite.definition.get("expectations", [])):
            name = f"bench__{suite.name}__{number}"
            one = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=[spec]))
            validation = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=name, data=batch, suite=one)
            )
            validation.run()
            count += 1
    return time.perf_counter() - started, count


# --- W4 --------------------------------------------------------------------------------------
def w4_model_overhead(
    lake: BenchLake, say: Say, poll_intervals: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    """Per gold table model: dbt's own time minus its `create table` statement's, both from
    the same run's structured log, so the query's run-to-run spread (seconds at 20 years)
    does not count as overhead. dbt runs with one thread here so that no model's time
    includes waiting for another's. Several poll intervals run in order and then in reverse
    (0, 1, 1, 0), so none always meets the engine warmer or colder than another; the
    overheads come from the first run."""
    balanced = len(poll_intervals) > 1
    order = [*poll_intervals, *reversed(poll_intervals)] if balanced else list(poll_intervals)
    runs = [(i, _dbt_run_gold(lake, say, i, n)) for n, i in enumerate(order)]
    first, (run_dir, results, _) = runs[0]
    statements = model_statements(run_dir / "dbt.log")
    per_model = {}
    for r in results:
        queries: list[float] = []
        others: dict[str, float] = {}
        for sql, elapsed in statements.get(r["unique_id"], []):
            if _is_create_table(sql):
                queries.append(elapsed)
            else:
                opening = _opening(sql)
                others[opening] = others.get(opening, 0.0) + elapsed
        if len(queries) != 1:  # a changed log or materialization: no figure beats a wrong one
            raise RuntimeError(
                f"W4: {len(queries)} create-table statements for {r['unique_id']} in "
                f"{run_dir / 'dbt.log'}; expected one"
            )
        [query] = queries
        per_model[r["unique_id"].split(".")[-1]] = {
            "dbt_s": round(r["execution_time"], 3),
            "query_s": round(query, 3),
            "other_statements_s": round(sum(others.values()), 3),
            "other_statements_by_opening_s": {k: round(v, 3) for k, v in others.items()},
            "overhead_s": round(r["execution_time"] - query, 3),
        }
    overheads = [m["overhead_s"] for m in per_model.values()]
    return {
        "models": per_model,
        "mean_overhead_per_model_s": round(sum(overheads) / len(overheads), 3),
        "poll_interval_s": first,
        "threads": 1,
        "gold_dbt_run_wall_s_by_poll_interval": {
            str(i): [round(w, 3) for j, (_, _, w) in runs if j == i] for i in poll_intervals
        },
        "target": "<= 0.5 s per table model",
    }


def model_statements(log: Path) -> dict[str, list[tuple[str, float]]]:
    """Each node's statements and their elapsed seconds, from dbt's JSON log file (the
    adapter's SQLQuery event, then its SQLQueryStatus, one thread)."""
    found: dict[str, list[tuple[str, float]]] = {}
    sent: dict[str, str] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line)
        name, data = event["info"]["name"], event["data"]
        node = (data.get("node_info") or {}).get("unique_id")
        if not node:
            continue
        if name == "SQLQuery":
            sent[node] = data["sql"]
        elif name == "SQLQueryStatus" and node in sent:
            found.setdefault(node, []).append((sent.pop(node), float(data["elapsed"])))
    return found


def _is_create_table(sql: str) -> bool:
    """The model's query: dbt-spark's `create [or replace] table … as`, after its comment."""
    return bool(re.match(r"create\s+(or\s+replace\s+)?table\b", _body(sql)))


def _opening(sql: str) -> str:
    """A statement's first two words (`drop table`, `describe extended`): what it does."""
    return " ".join(_body(sql).split()[:2])


def _body(sql: str) -> str:
    """A statement without dbt's leading query comment, lower case."""
    return re.sub(r"^\s*/\*.*?\*/", "", sql, count=1, flags=re.S).lstrip().lower()


def _dbt_run_gold(
    lake: BenchLake, say: Say, interval: int, number: int
) -> tuple[Path, list[dict[str, Any]], float]:
    say(f"W4 run {number + 1}: dbt run --select gold --threads 1 with poll_interval {interval}")
    target = lake.settings.home / f"w4_{number}_poll_{interval}"
    env = {
        **lake.settings.dbt_env(),
        "MARKETPULSE_DBT_POLL_INTERVAL": str(interval),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    started = time.perf_counter()
    subprocess.run(
        [
            _dbt_executable(),
            "run",
            *("--select", "gold", "--threads", "1"),
            *("--vars", json.dumps({"run_id": f"w4-{number}-poll-{interval}"})),
            *("--project-dir", str(lake.settings.project_dir)),
            *("--profiles-dir", str(lake.settings.project_dir / "profiles")),
            *("--target-path", str(target), "--log-path", str(target)),
            *("--log-format-file", "json", "--log-level-file", "debug"),
        ],
        env=env,
        check=True,
        capture_output=True,
        cwd=lake.settings.project_dir,
    )
    wall = time.perf_counter() - started
    results = json.loads((target / "run_results.json").read_text())["results"]
    return target, [r for r in results if r["unique_id"].startswith("model.")], wall


def _span(report: BuildReport, stage: str) -> float:
    start, end = report.stages[stage]
    return end - start
