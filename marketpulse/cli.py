"""`marketpulse` — a thin CLI over the Pipeline: parse, call, print.

Exit codes: 0 done/published, 3 a quality gate blocked promotion, 1 an error, 2 bad usage.
Heavy imports (pyspark, GX, pandas) happen inside the commands so `--help` is instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from marketpulse.config import LAYERS, Settings
from marketpulse.errors import BatchQuarantined, MarketPulseError
from marketpulse.ingestion.contracts import BATCH_RULES

if TYPE_CHECKING:
    from marketpulse.pipeline import BuildReport, Pipeline

# CLI feed name -> what its file holds (the readers live in marketpulse.ingestion.vendor).
VENDOR_FEEDS = {
    "prices": "daily bars (CSV: Date, Open, High, Low, Close, Adj Close, Volume[, Ticker])",
    "corporate-actions": "actions (CSV: Date, Dividends, Stock Splits[, Ticker])",
    "instruments": "instruments (CSV: Ticker, Name, Sector, Industry, Exchange, ...)",
    "news": "news articles (JSON Lines)",
}

# Kept here (not imported) so `--help` stays instant; a unit test keeps it in sync.
SIMULATOR_FAULTS = (
    "duplicate_batch",
    "restated_bar",
    "late_bar",
    "malformed_lines",
    "nan_price",
    "inf_price",
    "negative_price",
    "negative_volume",
    "ohlc_break",
    "split_without_action",
    "action_without_jump",
    "missing_column",
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_GATE_BLOCKED = 3


def _say(message: str) -> None:
    print(message, flush=True)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs at least one worker, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketpulse",
        description="MarketPulse: gated market-data lakehouse on a local Spark Thrift engine.",
        epilog="exit codes: 0 published, 3 a quality gate blocked promotion (or a delivery "
        "was quarantined), 1 error",
    )
    parser.add_argument("--home", help="lake directory (env MARKETPULSE_HOME, default .lake/)")
    parser.add_argument(
        "--port", type=int, help="Thrift port (env MARKETPULSE_THRIFT_PORT, default 10000)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    engine = commands.add_parser("engine", help="start, stop or inspect the local engine")
    engine.add_argument("action", choices=["start", "stop", "status"])
    engine.add_argument(
        "--cluster",
        type=_positive,
        metavar="N",
        help="start: run on a loopback Spark standalone cluster of N single-core workers "
        "(env MARKETPULSE_CLUSTER_WORKERS; default: local mode in one JVM)",
    )

    ingest = commands.add_parser("ingest", help="land a delivery in bronze")
    feeds = ingest.add_subparsers(dest="feed", required=True)
    synthetic = feeds.add_parser(
        "synthetic", help="the built-in market simulator (the default data; deterministic)"
    )
    synthetic.add_argument("--tickers", type=int, default=50)
    synthetic.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 2))
    synthetic.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31))
    synthetic.add_argument("--seed", type=int, default=7)
    synthetic.add_argument(
        "--faults", default="", help="comma-separated, from: " + ", ".join(SIMULATOR_FAULTS)
    )
    synthetic.add_argument(
        "--batch-sessions",
        type=int,
        default=0,
        help="one prices delivery per N sessions (0: one for the range)",
    )
    for feed, what in VENDOR_FEEDS.items():
        drop = feeds.add_parser(feed, help=f"a vendor file of {what}")
        drop.add_argument("--file", required=True, type=Path, help="the file (plain or gzip)")
        drop.add_argument("--source", default="vendor", help="who delivered it")
        if feed in ("prices", "corporate-actions"):
            drop.add_argument("--ticker", help="the ticker, when the file has no Ticker column")
    api = feeds.add_parser("alphavantage", help="daily bars from Alpha Vantage TIME_SERIES_DAILY")
    api.add_argument("--symbol", required=True)
    api.add_argument("--since", type=date.fromisoformat, help="only bars on or after (ISO)")
    api.add_argument("--base-url", default="https://www.alphavantage.co/query")

    build = commands.add_parser("build", help="build, gate and publish layers from bronze")
    build.add_argument("--layer", choices=[*LAYERS, "all"], default="all")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every month of the partitioned tables (after changing a model's logic)",
    )

    commands.add_parser("run", help="start the engine, ingest the default data, build all")

    report = commands.add_parser("report", help="(re)build the trust report for a run")
    report.add_argument("--run", dest="run_id", help="run id (default: the latest run)")
    report.add_argument("--open", action="store_true", help="open it in a browser")

    release = commands.add_parser(
        "release",
        help="waive a rule for one key or one delivery, with a recorded reason "
        "(next build publishes)",
    )
    release.add_argument("--ticker", help="the key's ticker (key-level rules)")
    release.add_argument(
        "--date",
        type=date.fromisoformat,
        help="the session the rule fired on, e.g. the jump date (ISO; key-level rules)",
    )
    release.add_argument("--batch", dest="batch_id", help="the delivery (quarantine_rate)")
    release.add_argument(
        "--rule",
        choices=["split_like_jump", "split_without_jump", "restatement_budget", *BATCH_RULES],
        help="(default: quarantine_rate with --batch, else split_like_jump) "
        "split_like_jump: a jump no split explains is a real move; "
        "split_without_jump: a split whose prices show no jump applies anyway; "
        "restatement_budget: a restated settled bar is accepted; "
        "quarantine_rate: a delivery over the rate publishes its passing rows",
    )
    release.add_argument("--reason", required=True, help="why; kept in bronze for audit")
    release.add_argument("--by", default=getpass.getuser(), help="who decides")

    rollback = commands.add_parser("rollback", help="re-publish an earlier version of a layer")
    rollback.add_argument("layer", choices=LAYERS)
    rollback.add_argument("--to", dest="run_id", help="run id to restore (default: previous)")
    return parser


def _print_report(pipeline: Pipeline, report: BuildReport) -> int:
    from marketpulse.gates import data_docs_index

    _say(f"\nrun {report.run_id}")
    for layer, gate in report.gates.items():
        s = gate.summary()
        state = "passed" if gate.passed else "BLOCKED"
        _say(
            f"  gate {layer:<6} {state:<8} {s['expectations']} expectations, "
            f"{s['failed_critical']} critical failed, {s['failed_warning']} warnings"
        )
        for outcome in gate.blocking:
            _say(f"    FAILED  {outcome.label()}")
        for outcome in gate.warnings:
            _say(f"    warning {outcome.label()}")
    if "silver" in report.gates:
        for dataset, batch, line, rules, reason in pipeline.quarantine_sample():
            _say(f"    quarantined {dataset} batch {batch} line {line}: {rules} ({reason})")
    for table, rows in pipeline.row_counts(report).items():
        _say(f"  published {table:<28} {rows:>10,} rows")
    _say(
        "  time: "
        + ", ".join(f"{name} {end - start:.1f}s" for name, (start, end) in report.stages.items())
    )
    _say(f"  gate results: {pipeline.lake.runs / report.run_id}")
    _say(f"  trust report: {_build_report(pipeline.settings, report.run_id)}")
    _say(f"  Data Docs:    {data_docs_index(pipeline.settings)}")
    for m in report.quarantined:
        _say(f"  QUARANTINED {m.dataset} batch {m.batch_id}, not registered: {m.reason}")
    if report.blocked:
        _say(
            f"quality gate blocked promotion of {report.blocked_layer}; published tables "
            f"are unchanged (exit {EXIT_GATE_BLOCKED})"
        )
        return EXIT_GATE_BLOCKED
    if report.quarantined:
        _say(
            f"published; {len(report.quarantined)} pending deliveries were quarantined by the "
            f"bronze gate (exit {EXIT_GATE_BLOCKED}): fix them and deliver them again"
        )
        return EXIT_GATE_BLOCKED
    return EXIT_OK


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from marketpulse.engine import Engine
    from marketpulse.pipeline import Pipeline
    from marketpulse.publish import Publisher, lake_lock

    if args.command == "engine":
        if args.cluster is not None:
            settings = dataclasses.replace(settings, cluster_workers=args.cluster)
        engine = Engine(settings)
        if args.action == "start":
            _say(engine.start(_say).describe())
        elif args.action == "stop":
            engine.stop(_say)
        else:
            _say(engine.status().describe())
        return EXIT_OK

    pipeline = Pipeline(settings, _say)
    if args.command == "ingest":
        _ingest(pipeline, args)
        return EXIT_OK
    if args.command == "report":
        return _report(settings, args.run_id, args.open)
    if args.command == "build":
        layers = LAYERS if args.layer == "all" else (args.layer,)
        return _print_report(pipeline, pipeline.build(layers, full_refresh=args.full_refresh))
    if args.command == "run":
        return _print_report(pipeline, pipeline.run())
    if args.command == "release":
        rule = args.rule or ("quarantine_rate" if args.batch_id else "split_like_jump")
        pipeline.release(
            rule,
            args.reason,
            args.by,
            ticker=args.ticker,
            on=args.date,
            batch_id=args.batch_id,
        )
        released = (
            f"batch {args.batch_id}" if args.batch_id else f"{args.ticker.upper()} on {args.date}"
        )
        _say(f"released {rule} for {released}; the next `marketpulse build` publishes it")
        return EXIT_OK
    if args.command == "rollback":
        with lake_lock(settings.lake):
            publisher = Publisher(pipeline.client(), settings.lake, _say)
            # A rollback to a named run replaces an unfinishable promotion of that layer.
            publisher.recover(discard=args.layer if args.run_id else None)
            manifest = publisher.rollback(args.layer, args.run_id)
        _say(f"{args.layer} now serves the version published by run {manifest.run_id}")
        return EXIT_OK
    raise AssertionError(args.command)


def _build_report(settings: Settings, run_id: str) -> str:
    from marketpulse.report import build_report

    try:
        return str(build_report(settings, run_id, progress=lambda _m: None))
    except MarketPulseError as exc:  # the report must never hide the run's own outcome
        return f"not built ({exc})"


def _report(settings: Settings, run_id: str | None, open_it: bool) -> int:
    runs = sorted(p.name for p in settings.lake.runs.glob("*") if p.is_dir())
    if not runs:
        raise MarketPulseError(f"no runs in {settings.lake.runs}; run `marketpulse build` first")
    from marketpulse.report import build_report

    page = build_report(settings, run_id or runs[-1], progress=_say)
    _say(f"trust report: {page}")
    if open_it:
        import webbrowser

        webbrowser.open(page.as_uri())
    return EXIT_OK


def _ingest(pipeline: Pipeline, args: argparse.Namespace) -> None:
    from marketpulse.ingestion import rest, vendor

    if args.feed == "synthetic":
        from marketpulse.ingestion.simulator import SimulationConfig

        faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
        pipeline.ingest_simulated(
            SimulationConfig(
                tickers=args.tickers,
                start=args.start,
                end=args.end,
                seed=args.seed,
                faults=faults,
                batch_sessions=args.batch_sessions,
            )
        )
    elif args.feed == "alphavantage":
        client = rest.AlphaVantageDaily(
            rest.api_key_from_env(), base_url=args.base_url, progress=_say
        )
        pipeline.ingest(
            "prices_daily", "alphavantage", client.daily_bars(args.symbol, since=args.since)
        )
    else:
        readers = {
            "prices": lambda: vendor.read_prices_csv(args.file, args.ticker),
            "corporate-actions": lambda: vendor.read_corporate_actions_csv(args.file, args.ticker),
            "instruments": lambda: vendor.read_instruments_csv(args.file),
            "news": lambda: vendor.read_news_jsonl(args.file),
        }
        read = readers[args.feed]()
        pipeline.ingest(
            read.contract.dataset,
            args.source,
            read.records,
            rejections=read.rejections,
            original=args.file,
        )
        if read.ignored_columns:
            _say(f"note: columns not in the contract were ignored: {read.ignored_columns}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env(home=args.home, port=args.port)
    try:
        return _dispatch(args, settings)
    except BatchQuarantined as exc:
        print(f"quarantined: {exc}", file=sys.stderr, flush=True)
        return EXIT_GATE_BLOCKED
    except MarketPulseError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "interrupted; if a promotion was under way, the next `marketpulse build` or "
            "`rollback` finishes it",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
