"""What the gate history records as each table's validated range: the partitions its
audit build held, read from the engine only for tables built in part; and the check that no
model a build ran reads a table it carried over."""

from __future__ import annotations

import json
from pathlib import Path

from marketpulse.incremental import LOGS, RebuildWindow
from marketpulse.pipeline import LayerBuild, readers_of_carried, validated_ranges


class Partitions:
    """An engine that knows each audit table's partitions and records what was asked."""

    def __init__(self, partitions: dict[str, list[str]]) -> None:
        self.partitions = partitions
        self.asked: list[str] = []

    def query(self, sql: str) -> list[tuple[str]]:
        table = sql.removeprefix("show partitions ")
        self.asked.append(table)
        return [(spec,) for spec in self.partitions[table]]


SILVER = LayerBuild(
    tables=("instruments", "prices_daily", "quarantine", "restatements"),
    partitioned={
        "prices_daily": "trade_month",
        "quarantine": "detected_month",
        "restatements": "detected_month",
    },
    sparse=(),
    skipped=(),
    checks=(),
)
AUDIT = {
    "silver_audit.prices_daily": ["trade_month=2024-06", "trade_month=2024-05"],
    "silver_audit.quarantine": ["detected_month=2026-12"],
    "silver_audit.restatements": [],
}


def test_a_windowed_build_records_each_partitioned_tables_first_partition() -> None:
    client = Partitions(AUDIT)
    window = RebuildWindow("2024-05-01", "new deliveries", logs=LOGS, log_batches=("b9",))
    assert validated_ranges(client, "silver", SILVER, window) == {  # type: ignore[arg-type]
        "silver_audit.instruments": "all",  # unpartitioned: built whole
        "silver_audit.prices_daily": "trade_month >= 2024-05",
        "silver_audit.quarantine": "detected_month >= 2026-12",  # the months it appends to
        "silver_audit.restatements": "detected_month: none",  # nothing to append
    }


def test_a_full_build_records_all_and_asks_only_for_appended_logs() -> None:
    client = Partitions(AUDIT)
    appending = RebuildWindow(None, "new instruments", logs=LOGS, log_batches=("b9",))
    ranges = validated_ranges(client, "silver", SILVER, appending)  # type: ignore[arg-type]
    assert ranges["silver_audit.prices_daily"] == "all"
    assert ranges["silver_audit.quarantine"] == "detected_month >= 2026-12"
    assert client.asked == ["silver_audit.quarantine", "silver_audit.restatements"]
    derived = RebuildWindow("2024-05-01", "out of order", logs=LOGS, log_batches=None)
    ranges = validated_ranges(client, "silver", SILVER, derived)  # type: ignore[arg-type]
    assert ranges["silver_audit.quarantine"] == "all"  # derived anew from every batch


def test_a_table_dbt_skipped_is_not_asked_for() -> None:
    """A failed dbt test skips the models after it: on a new lake their audit tables do
    not exist, on an old one they hold an earlier run's rows."""
    client = Partitions({})
    blocked = LayerBuild(
        tables=("prices_daily",),
        partitioned={"prices_daily": "trade_month"},
        sparse=(),
        skipped=("prices_daily",),
        checks=(),
    )
    window = RebuildWindow("2024-05-01", "new deliveries")
    ranges = validated_ranges(client, "silver", blocked, window)  # type: ignore[arg-type]
    assert ranges == {"silver_audit.prices_daily": "not built"}
    assert client.asked == []


def _run_dir(tmp_path: Path, ran: list[str], parent_map: dict[str, list[str]]) -> Path:
    """dbt artifacts of a silver build: the nodes it ran and what each reads."""
    nodes = {
        f"model.marketpulse.{name}": {"resource_type": "model", "alias": name}
        for name in ("news_articles", "news_article_tickers", "quarantine", "prices_daily")
    }
    manifest = {"nodes": nodes, "parent_map": parent_map}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    results = {"results": [{"unique_id": uid} for uid in ran]}
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    return tmp_path


def test_a_model_reading_a_carried_table_is_named(tmp_path: Path) -> None:
    carried = ("news_articles", "news_article_tickers")
    parents = {
        "model.marketpulse.quarantine": ["model.marketpulse.news_articles"],
        "model.marketpulse.prices_daily": [],
        "model.marketpulse.news_article_tickers": ["model.marketpulse.news_articles"],
    }
    ran = ["model.marketpulse.prices_daily", "model.marketpulse.quarantine"]
    run_dir = _run_dir(tmp_path, ran, parents)
    assert readers_of_carried(run_dir, carried) == ["model.marketpulse.quarantine"]
    assert readers_of_carried(run_dir, ()) == []
    # The carried tables' own readers among themselves were not run: nothing to refuse.
    run_dir = _run_dir(tmp_path, ["model.marketpulse.prices_daily"], parents)
    assert readers_of_carried(run_dir, carried) == []
