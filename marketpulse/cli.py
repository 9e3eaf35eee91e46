"""`marketpulse` — a thin CLI over the Pipeline: parse, call, print.

Exit codes: 0 done/published, 3 a quality gate blocked promotion, 1 an error, 2 bad usage.
Heavy imports (pyspark, GX, pandas) happen inside the commands so `--help` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from marketpulse.config import LAYERS, Settings
from marketpulse.errors import MarketPulseError

if TYPE_CHECKING:
    from marketpulse.pipeline import BuildReport, Pipeline

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_GATE_BLOCKED = 3


def _say(message: str) -> None:
    print(message, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketpulse",
        description="MarketPulse: gated market-data lakehouse on a local Spark Thrift engine.",
        epilog="exit codes: 0 published, 3 a quality gate blocked promotion, 1 error",
    )
    parser.add_argument("--home", help="lake directory (env MARKETPULSE_HOME, default .lake/)")
    parser.add_argument(
        "--port", type=int, help="Thrift port (env MARKETPULSE_THRIFT_PORT, default 10000)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    engine = commands.add_parser("engine", help="start, stop or inspect the local engine")
    engine.add_argument("action", choices=["start", "stop", "status"])

    ingest = commands.add_parser("ingest", help="land a delivery in bronze")
    feeds = ingest.add_subparsers(dest="feed", required=True)
    feeds.add_parser("synthetic", help="the embedded default data (deterministic)")
    prices = feeds.add_parser("prices", help="a daily-bars CSV file")
    prices.add_argument("--file", required=True, type=Path)
    prices.add_argument("--source", default="vendor")

    build = commands.add_parser("build", help="build, gate and publish layers from bronze")
    build.add_argument("--layer", choices=[*LAYERS, "all"], default="all")

    commands.add_parser("run", help="start the engine, ingest the default data, build all")

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
    for table, rows in pipeline.row_counts(report).items():
        _say(f"  published {table:<28} {rows:>10,} rows")
    _say(f"  gate results: {pipeline.lake.runs / report.run_id}")
    _say(f"  Data Docs:    {data_docs_index(pipeline.settings)}")
    if report.blocked:
        _say(
            f"quality gate blocked promotion of {report.blocked_layer}; published tables "
            f"are unchanged (exit {EXIT_GATE_BLOCKED})"
        )
        return EXIT_GATE_BLOCKED
    return EXIT_OK


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from marketpulse.engine import Engine
    from marketpulse.pipeline import Pipeline, read_file_records
    from marketpulse.publish import Publisher, lake_lock

    if args.command == "engine":
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
        if args.feed == "synthetic":
            pipeline.ingest_default()
        else:
            content, count = read_file_records(args.file)
            pipeline.ingest(
                dataset="prices_daily", source=args.source, content=content, record_count=count
            )
        return EXIT_OK
    if args.command == "build":
        layers = LAYERS if args.layer == "all" else (args.layer,)
        return _print_report(pipeline, pipeline.build(layers))
    if args.command == "run":
        return _print_report(pipeline, pipeline.run())
    if args.command == "rollback":
        with lake_lock(settings.lake):
            manifest = Publisher(pipeline.client(), settings.lake, _say).rollback(
                args.layer, args.run_id
            )
        _say(f"{args.layer} now serves the version published by run {manifest.run_id}")
        return EXIT_OK
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env(home=args.home, port=args.port)
    try:
        return _dispatch(args, settings)
    except MarketPulseError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "interrupted; published tables are unchanged unless a promotion had completed",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
