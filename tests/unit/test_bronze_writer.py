from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from marketpulse.errors import IngestError
from marketpulse.ingestion import bronze
from marketpulse.ingestion.bronze import COMMITTED, MANIFEST, QUARANTINED, BronzeWriter, Rejection
from marketpulse.ingestion.contracts import NEWS_ARTICLES, PRICES_DAILY

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
BAR = {
    "line_number": 1,
    "ticker": "AAA",
    "trade_date": "2024-01-02",
    "open": "1",
    "high": "2",
    "low": "0.5",
    "close": "1.5",
    "volume": "10",
}


def _write(writer: BronzeWriter, records: list[dict] | None = None, now: datetime = NOW):
    return writer.write_records(PRICES_DAILY, "vendor", records or [BAR], now=now)


def test_batch_lands_in_contract_columns_with_manifest(tmp_path: Path) -> None:
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
    assert (batch_dir / "part-00000.csv").read_text().splitlines() == [
        "line_number,ticker,trade_date,open,high,low,close,adj_close,volume",
        "1,AAA,2024-01-02,1,2,0.5,1.5,,10",
    ]
    manifest = json.loads((batch_dir / MANIFEST).read_text())
    assert manifest["record_count"] == 1
    assert manifest["byte_size"] == (batch_dir / "part-00000.csv").stat().st_size
    assert manifest["sha256"] == m.sha256 and manifest["schema_version"] == 1
    assert manifest["ingested_at"] == NOW.isoformat()
    assert not (tmp_path / "_staging").exists() or not any((tmp_path / "_staging").iterdir())


def test_json_feeds_keep_lists_and_unicode(tmp_path: Path) -> None:
    article = {
        "line_number": 1,
        "article_id": "a1",
        "published_at": "2024-01-02T21:05:00Z",
        "headline": "Café ☕ beats",
        "publisher": "wire",
        "tickers": ["AAA", "BBB"],
    }
    m = BronzeWriter(tmp_path).write_records(NEWS_ARTICLES, "news", [article], now=NOW).manifest
    line = (tmp_path / "news_articles" / m.partition_path / "part-00000.jsonl").read_text()
    assert json.loads(line) == {**article, "summary": None, "url": None}


def test_redelivering_the_same_records_is_a_no_op_even_on_another_day(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path)
    first = _write(writer)
    again = _write(writer, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert not again.is_new and again.manifest == first.manifest
    assert len(writer.committed_batches("prices_daily")) == 1


def test_a_corrected_delivery_is_a_new_batch(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path)
    _write(writer)
    assert _write(writer, [{**BAR, "close": "1.6"}]).is_new
    assert len(writer.committed_batches("prices_daily")) == 2


def test_two_writers_racing_on_the_same_bytes_land_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rival claims first and commits while this writer waits on the claim's lock."""
    claim_exclusively = bronze._create_exclusive
    rival: dict[str, object] = {}

    def rival_claims_first(path: Path, data: bytes) -> bool:
        manifest = json.loads(data)
        manifest["manifest"]["batch_id"] = "rival"
        assert claim_exclusively(path, json.dumps(manifest).encode())
        rival["claim"] = path
        return claim_exclusively(path, data)

    monkeypatch.setattr(bronze, "_create_exclusive", rival_claims_first)
    writer = BronzeWriter(tmp_path)
    result = _write(writer)
    # This writer found the rival's identity unfinished and landed the same bytes under it.
    assert result.manifest.batch_id == "rival"
    assert [m.batch_id for m in writer.committed_batches("prices_daily")] == ["rival"]
    monkeypatch.setattr(bronze, "_create_exclusive", claim_exclusively)
    again = _write(writer)
    assert not again.is_new and again.manifest.batch_id == "rival"


def test_a_writer_waits_for_the_one_landing_the_same_bytes(tmp_path: Path) -> None:
    """While another process holds the claim's lock, a second writer waits, then finds the
    batch committed and reports a no-op."""
    writer = BronzeWriter(tmp_path)
    first = _write(writer)
    batch_dir = tmp_path / "prices_daily" / first.manifest.partition_path
    claim = next((tmp_path / "prices_daily" / "_by_sha256").glob("*.json"))
    (batch_dir / MANIFEST).unlink()  # as if the holder were still writing
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time, pathlib\n"
            f"h = open({str(claim)!r}, 'rb'); fcntl.flock(h, fcntl.LOCK_EX)\n"
            "print('locked', flush=True); time.sleep(1.5)\n"
            f"pathlib.Path({str(batch_dir / MANIFEST)!r}).write_text("
            f"{json.dumps(first.manifest.__dict__)!r})\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    second = _write(writer, now=datetime(2026, 3, 1, tzinfo=UTC))
    holder.wait(timeout=30)
    assert not second.is_new and second.manifest == first.manifest


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


def test_a_delivery_without_records_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no records"):
        BronzeWriter(tmp_path).write_records(PRICES_DAILY, "vendor", [])
    assert not (tmp_path / "prices_daily").exists()
    assert list((tmp_path / "_staging").iterdir()) == []


def test_unreadable_lines_land_beside_the_batch_with_reasons(tmp_path: Path) -> None:
    rejections = [Rejection(2, "csv_field_count", "9 fields, expected 8", "AAA,1,2")]
    good = [{**BAR, "line_number": n, "trade_date": f"2024-01-{n + 1:02d}"} for n in range(1, 30)]
    m = (
        BronzeWriter(tmp_path)
        .write_records(PRICES_DAILY, "vendor", good, rejections=rejections, now=NOW)
        .manifest
    )
    assert m.status == COMMITTED and m.rejected_count == 1
    rejected = tmp_path / "rejected_records" / m.partition_path / "part-00000.jsonl"
    assert json.loads(rejected.read_text()) == {
        "line_number": 2,
        "dataset": "prices_daily",
        "rule_id": "csv_field_count",
        "reason": "9 fields, expected 8",
        "raw_record": "AAA,1,2",
    }


def test_too_many_unreadable_lines_quarantine_the_batch(tmp_path: Path) -> None:
    rejections = [Rejection(n, "encoding", "not UTF-8", None) for n in range(2, 5)]
    m = (
        BronzeWriter(tmp_path, max_reject_rate=0.05)
        .write_records(PRICES_DAILY, "vendor", [BAR], rejections=rejections, now=NOW)
        .manifest
    )
    assert m.status == QUARANTINED and "3 of 4 lines could not be read" in (m.reason or "")
    assert (tmp_path / "prices_daily" / m.partition_path / MANIFEST).exists()  # kept, not lost


def test_a_quarantined_batch_delivered_again_lands_again_for_review(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path)
    landed = _write(writer).manifest
    part = tmp_path / "prices_daily" / landed.partition_path / landed.file
    part.write_text(part.read_text()[:-5])  # a damaged copy the gate refused
    marked = writer.quarantine(landed, "bronze gate failed: record count")
    assert (marked.status, marked.reason) == (QUARANTINED, "bronze gate failed: record count")
    assert writer.committed_batches("prices_daily") == [marked]  # kept, with its reason

    again = _write(writer, now=datetime(2026, 2, 1, tzinfo=UTC))

    assert again.is_new and again.manifest == landed  # same identity, committed again
    assert writer.committed_batches("prices_daily") == [landed]
    assert hashlib.sha256(part.read_bytes()).hexdigest() == landed.sha256  # repaired


def test_different_bad_lines_make_a_different_delivery(tmp_path: Path) -> None:
    writer = BronzeWriter(tmp_path, max_reject_rate=1.0)
    a = writer.write_records(PRICES_DAILY, "v", [BAR], rejections=[Rejection(2, "r", "x", "a")])
    b = writer.write_records(PRICES_DAILY, "v", [BAR], rejections=[Rejection(2, "r", "x", "b")])
    assert a.manifest.sha256 != b.manifest.sha256 and b.is_new


def test_sigkill_between_data_and_manifest_then_rerun_converges(tmp_path: Path) -> None:
    """A real process killed at the worst moment; the rerun lands the batch exactly once."""
    script = f"""
import os, signal
from pathlib import Path
from marketpulse.ingestion import bronze
from marketpulse.ingestion.contracts import PRICES_DAILY
bronze.before_manifest = lambda: os.kill(os.getpid(), signal.SIGKILL)
bars = [dict({BAR!r}, line_number=n, trade_date=f"2024-02-{{n:02d}}") for n in range(1, 21)]
bronze.BronzeWriter(Path({str(tmp_path)!r})).write_records(PRICES_DAILY, "vendor", bars)
"""
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    writer = BronzeWriter(tmp_path)
    assert writer.committed_batches("prices_daily") == []  # nothing half-visible

    bars = [{**BAR, "line_number": n, "trade_date": f"2024-02-{n:02d}"} for n in range(1, 21)]
    result = writer.write_records(PRICES_DAILY, "vendor", bars)
    assert result.is_new
    [batch] = writer.committed_batches("prices_daily")
    part = tmp_path / "prices_daily" / batch.partition_path / "part-00000.csv"
    assert batch.record_count == 20 and len(part.read_text().splitlines()) == 21
    assert not writer.write_records(PRICES_DAILY, "vendor", bars).is_new
    assert list((tmp_path / "_staging").iterdir()) == []
