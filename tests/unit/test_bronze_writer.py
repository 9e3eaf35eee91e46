from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketpulse.errors import IngestError
from marketpulse.ingestion.bronze import MANIFEST, BronzeWriter

CONTENT = b"ticker,trade_date,open,high,low,close,volume\nAAA,2024-01-02,1,2,0.5,1.5,10\n"
NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _write(writer: BronzeWriter, content: bytes = CONTENT, now: datetime = NOW):
    return writer.write_batch(
        dataset="prices_daily",
        source="vendor",
        content=content,
        record_count=1,
        schema_version=1,
        now=now,
    )


def test_batch_lands_with_manifest_in_partitioned_layout(tmp_path: Path) -> None:
    result = _write(BronzeWriter(tmp_path))
    m = result.manifest
    batch_dir = (
        tmp_path
        / "prices_daily"
        / "source=vendor"
        / "ingest_date=2026-01-05"
        / (f"batch_id={m.batch_id}")
    )
    assert result.is_new
    assert (batch_dir / "data.csv").read_bytes() == CONTENT
    manifest = json.loads((batch_dir / MANIFEST).read_text())
    assert manifest["record_count"] == 1 and manifest["byte_size"] == len(CONTENT)
    assert manifest["sha256"] == m.sha256 and manifest["schema_version"] == 1
    assert manifest["ingested_at"] == NOW.isoformat()


def test_redelivering_the_same_bytes_is_a_no_op_even_on_another_day(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path)
    first = _write(writer)
    again = _write(writer, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert not again.is_new and again.manifest == first.manifest
    assert len(writer.committed_batches("prices_daily")) == 1


def test_a_corrected_delivery_is_a_new_batch(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path)
    _write(writer)
    corrected = _write(writer, content=CONTENT.replace(b"1.5", b"1.6"))
    assert corrected.is_new
    assert len(writer.committed_batches("prices_daily")) == 2


def test_crash_before_the_manifest_resumes_into_the_same_batch(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path)
    first = _write(writer)
    batch_dir = tmp_path / "prices_daily" / first.manifest.partition_path
    (batch_dir / MANIFEST).unlink()  # as if killed after the data, before the commit marker
    assert writer.committed_batches("prices_daily") == []
    resumed = _write(writer, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert resumed.is_new and resumed.manifest == first.manifest
    assert [m.batch_id for m in writer.committed_batches("prices_daily")] == [
        first.manifest.batch_id
    ]


def test_empty_delivery_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="empty"):
        BronzeWriter(tmp_path).write_batch(
            dataset="prices_daily", source="v", content=b"", record_count=0, schema_version=1
        )
