"""Bronze in the catalog: external tables over the raw files, one partition per batch.

A batch becomes visible only by adding its partition and its manifest row, so a run never
rescans history, and a batch written but not registered (crash) is picked up next time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from marketpulse.engine import EngineClient
from marketpulse.ingestion.bronze import BatchManifest


@dataclass(frozen=True)
class BronzeDataset:
    name: str
    columns: tuple[str, ...]  # as delivered; bronze keeps them as strings
    schema_version: int = 1


PRICES_DAILY = BronzeDataset(
    "prices_daily", ("ticker", "trade_date", "open", "high", "low", "close", "volume")
)
DATASETS = {d.name: d for d in (PRICES_DAILY,)}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ensure_tables(client: EngineClient, raw_root: Path) -> None:
    client.execute("create database if not exists bronze")
    client.execute(
        "create table if not exists bronze.batches (batch_id string, dataset string, "
        "source string, ingest_date string, ingested_at timestamp, record_count bigint, "
        "byte_size bigint, sha256 string, schema_version int, file string) using parquet"
    )
    for dataset in DATASETS.values():
        columns = ", ".join(f"`{c}` string" for c in dataset.columns)
        client.execute(
            f"create table if not exists bronze.{dataset.name} ({columns}, source string, "
            "ingest_date string, batch_id string) using csv "
            "options (header 'true', pathGlobFilter '*.csv*', mode 'PERMISSIVE') "
            "partitioned by (source, ingest_date, batch_id) "
            f"location {_quote(str(raw_root / dataset.name))}"
        )


def registered_batch_ids(client: EngineClient) -> set[str]:
    return {row[0] for row in client.query("select batch_id from bronze.batches")}


def register(
    client: EngineClient,
    manifests: Iterable[BatchManifest],
    progress: Callable[[str], None] = print,
) -> list[BatchManifest]:
    """Add each unregistered batch's partition, then its manifest row (the visibility marker)."""
    known = registered_batch_ids(client)
    added = []
    for m in manifests:
        if m.batch_id in known:
            continue
        client.execute(
            f"alter table bronze.{m.dataset} add if not exists partition ("
            f"source={_quote(m.source)}, ingest_date={_quote(m.ingest_date)}, "
            f"batch_id={_quote(m.batch_id)})"
        )
        client.execute(
            "insert into bronze.batches select "
            + ", ".join(
                [
                    _quote(m.batch_id),
                    _quote(m.dataset),
                    _quote(m.source),
                    _quote(m.ingest_date),
                    f"timestamp {_quote(m.ingested_at)}",
                    str(m.record_count),
                    str(m.byte_size),
                    _quote(m.sha256),
                    str(m.schema_version),
                    _quote(m.file),
                ]
            )
        )
        progress(
            f"bronze: registered {m.dataset} batch {m.batch_id} "
            f"({m.record_count} records from {m.source})"
        )
        added.append(m)
    return added
