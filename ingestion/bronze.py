"""The bronze writer: a delivery lands once, as delivered, with a manifest written last.

Layout (the same under S3): raw/<dataset>/source=<s>/ingest_date=<d>/batch_id=<b>/
  part-00000.csv|jsonl   the records in the dataset's contract columns, values verbatim
  _original-<name>       the delivered file itself, byte for byte (vendor drops)
  _manifest.json         the commit marker, written last
(Spark skips files whose names start with `_`, so only part files are read as records.)
Records stream through a staging file while being hashed, so memory stays flat. A claim per
content hash (raw/<dataset>/_by_sha256/<sha>.json) makes a re-delivery a no-op and lets a
batch interrupted before its manifest resume into the same directory.
"""

from __future__ import annotations

import csv
import fcntl
import fnmatch
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from marketpulse.errors import IngestError
from marketpulse.ingestion.contracts import REJECTED_RECORDS, Contract

MANIFEST = "_manifest.json"
PART_GLOB = "part-*"  # a batch's data file (Contract.part_name)
ORIGINAL_PREFIX = "_original-"  # the delivered file itself; the `_` hides it from Spark
COMMITTED, QUARANTINED = "committed", "quarantined"
DEFAULT_MAX_REJECT_RATE = 0.05  # above this share of unreadable lines a batch is quarantined


def _no_fault() -> None:
    pass


# Called after the data is in place and before the commit marker; tests replace it to kill
# the process at the worst moment.
before_manifest: Callable[[], None] = _no_fault


@dataclass(frozen=True)
class Rejection:
    """A delivered line that could not be read into its contract."""

    line_number: int
    rule_id: str
    reason: str
    raw_record: str | None


@dataclass(frozen=True)
class BatchManifest:
    dataset: str
    source: str
    batch_id: str
    ingest_date: str
    ingested_at: str  # ISO-8601 UTC
    record_count: int
    byte_size: int
    sha256: str
    schema_version: int
    file: str
    original_file: str | None = None
    rejected_count: int = 0  # lines that could not be read; in raw/rejected_records/
    status: str = "committed"  # or "quarantined": kept, never registered
    reason: str | None = None

    @property
    def partition_path(self) -> str:
        return f"source={self.source}/ingest_date={self.ingest_date}/batch_id={self.batch_id}"

    def landed_at(self, at: datetime) -> BatchManifest:
        """A staged draft given its identity: landed at `at`, named by time and content."""
        at = at.astimezone(UTC)
        return replace(
            self,
            batch_id=f"{at:%Y%m%dT%H%M%S%f}Z-{self.sha256[:12]}",
            ingest_date=at.date().isoformat(),
            ingested_at=at.isoformat(),
        )

    def resuming(self, claimed: BatchManifest) -> BatchManifest:
        """A staged draft taking the identity of the batch an earlier attempt claimed."""
        return replace(
            self,
            batch_id=claimed.batch_id,
            ingest_date=claimed.ingest_date,
            ingested_at=claimed.ingested_at,
        )

    def quarantined(self, reason: str) -> BatchManifest:
        return replace(self, status=QUARANTINED, reason=reason)


@dataclass(frozen=True)
class BatchScan:
    """What one listing of a dataset's batch folders shows: the manifests of the batches
    not skipped (the registered ones need not be read again), by batch id, and the ids of
    the batches whose part file is there (a registered batch missing there lost its data)."""

    manifests: list[BatchManifest]
    with_data: set[str]


@dataclass(frozen=True)
class WriteResult:
    manifest: BatchManifest
    is_new: bool


class _HashingWriter:
    """A text sink that hashes and counts the UTF-8 bytes it writes to a binary file."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)
        return len(text)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _create_exclusive(path: Path, data: bytes) -> bool:
    """Write a complete file at `path` unless it exists (a hard link is atomic and exclusive)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _atomic_write(tmp, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def _serialise(
    contract: Contract, records: Iterable[Mapping[str, Any]], sink: _HashingWriter
) -> int:
    count = 0
    writer = csv.writer(sink, lineterminator="\n")
    if contract.file_format == "csv":
        writer.writerow(contract.names)
    for record in records:
        if contract.file_format == "csv":
            writer.writerow(
                ["" if record.get(n) is None else record.get(n) for n in contract.names]
            )
        else:
            sink.write(
                json.dumps(
                    {n: record.get(n) for n in contract.names},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                + "\n"
            )
        count += 1
    return count


def verdict(accepted: int, rejected: int, max_rate: float) -> tuple[str, str | None]:
    """Committed, or quarantined when too much of the delivery could not be read."""
    rate = rejected / (accepted + rejected)
    if rate > max_rate:
        return QUARANTINED, (
            f"{rejected} of {accepted + rejected} lines could not be read "
            f"({rate:.1%} > the {max_rate:.1%} limit)"
        )
    return COMMITTED, None


def stage_batch(
    contract: Contract,
    source: str,
    records: Iterable[Mapping[str, Any]],
    rejections: Sequence[Rejection],
    original: Path | None,
    directory: Path,
    max_reject_rate: float,
) -> BatchManifest:
    """Stream a delivery into `directory` (part file, rejected lines) and describe it.

    Shared by the local and the S3 writers, so a batch has the same bytes and hash wherever
    it lands. The manifest has no identity yet (batch id, ingest date): the commit gives it.
    """
    with (directory / contract.part_name).open("wb") as handle:
        sink = _HashingWriter(handle)
        count = _serialise(contract, records, sink)
        handle.flush()
        os.fsync(handle.fileno())
    sha = sink.sha.hexdigest()
    if rejections:
        rejected = [{**asdict(r), "dataset": contract.dataset} for r in rejections]
        (directory / "rejected").mkdir()
        with (directory / "rejected" / REJECTED_RECORDS.part_name).open("wb") as handle:
            rejected_sink = _HashingWriter(handle)
            _serialise(REJECTED_RECORDS, rejected, rejected_sink)
        sha = hashlib.sha256((sha + rejected_sink.sha.hexdigest()).encode()).hexdigest()
    if count == 0 and not rejections:
        raise IngestError(
            f"{contract.dataset} delivery from {source} has no records; nothing to land"
        )
    status, reason = verdict(count, len(rejections), max_reject_rate)
    return BatchManifest(
        dataset=contract.dataset,
        source=source,
        batch_id="",
        ingest_date="",
        ingested_at="",
        record_count=count,
        byte_size=sink.size,
        sha256=sha,
        schema_version=contract.schema_version,
        file=contract.part_name,
        original_file=f"{ORIGINAL_PREFIX}{original.name}" if original else None,
        rejected_count=len(rejections),
        status=status,
        reason=reason,
    )


class BronzeWriter:
    """Writes batches under a local raw root (the S3 writer shares this contract)."""

    def __init__(self, raw_root: Path, max_reject_rate: float = DEFAULT_MAX_REJECT_RATE) -> None:
        self.raw_root = raw_root
        self.max_reject_rate = max_reject_rate

    def write_records(
        self,
        contract: Contract,
        source: str,
        records: Iterable[Mapping[str, Any]],
        *,
        rejections: Sequence[Rejection] = (),
        original: Path | None = None,
        now: datetime | None = None,
    ) -> WriteResult:
        """Land a delivery. `rejections` may be filled by the reader while `records` streams."""
        staging = self.raw_root / "_staging" / secrets.token_hex(8)
        staging.mkdir(parents=True)
        try:
            draft = stage_batch(
                contract, source, records, rejections, original, staging, self.max_reject_rate
            )
            if original is not None:
                shutil.copyfile(original, staging / f"{ORIGINAL_PREFIX}{original.name}")
            return self._commit(draft, staging, now)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, draft: BatchManifest, staging: Path, now: datetime | None) -> WriteResult:
        claim = self.raw_root / draft.dataset / "_by_sha256" / f"{draft.sha256}.json"
        if not claim.exists():
            fresh = draft.landed_at(now or datetime.now(UTC))
            claim.parent.mkdir(parents=True, exist_ok=True)
            # Exclusive: of two writers of the same bytes, one identity wins.
            _create_exclusive(claim, json.dumps({"manifest": asdict(fresh)}).encode())
        claimed = BatchManifest(**json.loads(claim.read_text())["manifest"])
        # Whoever holds the claim's lock is landing these bytes; a writer that died released
        # it, so the next one resumes under the same identity.
        with claim.open("rb") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            marker = self._batch_dir(claimed) / MANIFEST
            landed = BatchManifest(**json.loads(marker.read_text())) if marker.exists() else None
            if landed is not None and landed.status == COMMITTED:
                return WriteResult(landed, is_new=False)
            # Never committed (an attempt died before its manifest), or quarantined: these
            # bytes land again under the same identity and are reviewed again (a damaged
            # copy is repaired; a bad delivery is refused again).
            manifest = draft.resuming(claimed)
            batch_dir = self._batch_dir(manifest)
            rejected_dir = self.raw_root / REJECTED_RECORDS.dataset / manifest.partition_path
            for leftover in (batch_dir, rejected_dir):  # an attempt died before its manifest
                if leftover.exists():
                    shutil.rmtree(leftover)
            if (staging / "rejected").exists():
                rejected_dir.parent.mkdir(parents=True, exist_ok=True)
                (staging / "rejected").rename(rejected_dir)
            batch_dir.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(batch_dir)
            before_manifest()  # a fault-injection point for crash tests
            # The manifest is the commit marker: written last.
            _atomic_write(batch_dir / MANIFEST, json.dumps(asdict(manifest), indent=2).encode())
            return WriteResult(manifest, is_new=True)

    def quarantine(self, manifest: BatchManifest, reason: str) -> BatchManifest:
        """Mark a committed batch quarantined: kept on disk, never registered."""
        marked = manifest.quarantined(reason)
        manifest_path = self._batch_dir(marked) / MANIFEST
        _atomic_write(manifest_path, json.dumps(asdict(marked), indent=2).encode())
        return marked

    def _batch_dir(self, manifest: BatchManifest) -> Path:
        return self.raw_root / manifest.dataset / manifest.partition_path

    def scan(self, dataset: str, skip: Collection[str] = ()) -> BatchScan:
        """One listing of the dataset's batch folders (see BatchScan)."""
        manifests, with_data = [], set()
        for path in (self.raw_root / dataset).glob("source=*/ingest_date=*/batch_id=*/*"):
            batch_id = path.parent.name.removeprefix("batch_id=")
            if fnmatch.fnmatch(path.name, PART_GLOB):
                with_data.add(batch_id)
            elif path.name == MANIFEST and batch_id not in skip:
                try:
                    manifests.append(BatchManifest(**json.loads(path.read_text())))
                except FileNotFoundError:  # being landed again right now; the next scan sees it
                    continue
        return BatchScan(sorted(manifests, key=lambda m: m.batch_id), with_data)

    def committed_batches(self, dataset: str) -> list[BatchManifest]:
        return self.scan(dataset).manifests
