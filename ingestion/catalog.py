"""Bronze in the catalog: external tables over the raw files, one partition per batch.

A batch becomes visible only by adding its partition and its manifest row, so a run never
rescans history, and a batch written but not registered (crash) is picked up next time.
Before that, `bronze_audit.<dataset>` (the same files, only the batch under review) lets its
suite validate it alone.
"""

from __future__ import annotations

from collections.abc import Callable

from marketpulse.engine import EngineClient, quote
from marketpulse.ingestion.bronze import COMMITTED, BatchManifest
from marketpulse.ingestion.contracts import CONTRACTS, REJECTED_RECORDS, Contract

REVIEW_SCHEMA = "bronze_audit"


def table_ddl(contract: Contract, raw_root: str, schema: str = "bronze") -> str:
    columns = ", ".join(f"`{c.name}` {c.spark_type}" for c in contract.columns)
    # Spark reads every non-hidden file of a partition (a glob filter is not applied to
    # catalog partitions), so a batch directory holds only part files besides `_` files.
    if contract.file_format == "csv":
        # Every column is text: nothing is parsed (or silently nulled) before silver.
        # As Python's csv module writes: a quoted value may hold a line break (a vendor's
        # field, a release reason), and a quote inside one is doubled.
        using = (
            "using csv options (header 'true', multiLine 'true', escape '\"', mode 'PERMISSIVE')"
        )
    else:
        using = "using json options (mode 'PERMISSIVE')"
    return (
        f"create table if not exists {schema}.{contract.dataset} ({columns}, "
        f"source string, ingest_date string, batch_id string) {using} "
        f"partitioned by (source, ingest_date, batch_id) "
        f"location {quote(raw_root.rstrip('/') + '/' + contract.dataset)}"
    )


def ensure_tables(client: EngineClient, raw_root: str) -> None:
    client.execute("create database if not exists bronze")
    client.execute(
        "create table if not exists bronze.batches (batch_id string, dataset string, "
        "source string, ingest_date string, ingested_at timestamp, record_count bigint, "
        "byte_size bigint, sha256 string, schema_version int, file string, "
        "rejected_count bigint) using parquet"
    )
    for contract in (*CONTRACTS.values(), REJECTED_RECORDS):
        client.execute(table_ddl(contract, raw_root))
        if contract.schema_version > 1:  # a contract's version moves when it gains a column
            _add_new_columns(client, contract)


def _add_new_columns(client: EngineClient, contract: Contract) -> None:
    """A lake created before a contract gained a column gets it (after the others, as new
    contract columns are: older files read it as null)."""
    table = f"bronze.{contract.dataset}"
    present = {str(row[0]) for row in client.query(f"describe {table}")}
    new = [c for c in contract.columns if c.name not in present]
    if new:
        columns = ", ".join(f"`{c.name}` {c.spark_type}" for c in new)
        client.execute(f"alter table {table} add columns ({columns})")


def stage_for_review(client: EngineClient, manifest: BatchManifest, raw_root: str) -> None:
    """Make `bronze_audit.<dataset>` hold exactly this batch. Recreated each time, so nothing
    a crashed review left behind is validated again; dropping it keeps the files (external)."""
    table = f"{REVIEW_SCHEMA}.{manifest.dataset}"
    client.execute(f"create database if not exists {REVIEW_SCHEMA}")
    client.execute(f"drop table if exists {table}")
    client.execute(table_ddl(CONTRACTS[manifest.dataset], raw_root, REVIEW_SCHEMA))
    client.execute(f"alter table {table} add partition {_partition(manifest)}")


def unregister(client: EngineClient, manifest: BatchManifest) -> None:
    """Drop a batch's partitions if a registration cut short by a crash added them (its row in
    `bronze.batches`, the visibility marker, is added last, so it has none)."""
    for dataset in (manifest.dataset, REJECTED_RECORDS.dataset):
        client.execute(
            f"alter table bronze.{dataset} drop if exists partition {_partition(manifest)}"
        )


def _partition(m: BatchManifest) -> str:
    return (
        f"(source={quote(m.source)}, ingest_date={quote(m.ingest_date)}, "
        f"batch_id={quote(m.batch_id)})"
    )


def register(
    client: EngineClient, m: BatchManifest, progress: Callable[[str], None] = print
) -> None:
    """Make an admitted batch visible: its partitions, then its manifest row (the visibility
    marker, added last)."""
    if m.status != COMMITTED:
        raise ValueError(f"batch {m.batch_id} is {m.status}; only a committed batch registers")
    datasets = [m.dataset] + ([REJECTED_RECORDS.dataset] if m.rejected_count else [])
    for dataset in datasets:
        client.execute(f"alter table bronze.{dataset} add if not exists partition {_partition(m)}")
    client.execute(
        "insert into bronze.batches select "
        + ", ".join(
            [
                quote(m.batch_id),
                quote(m.dataset),
                quote(m.source),
                quote(m.ingest_date),
                f"timestamp {quote(m.ingested_at)}",
                str(m.record_count),
                str(m.byte_size),
                quote(m.sha256),
                str(m.schema_version),
                quote(m.file),
                str(m.rejected_count),
            ]
        )
    )
    progress(
        f"bronze: registered {m.dataset} batch {m.batch_id} "
        f"({m.record_count} records from {m.source}"
        + (f", {m.rejected_count} unreadable lines quarantined)" if m.rejected_count else ")")
    )
