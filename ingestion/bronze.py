"""The bronze writer: a delivery lands once, as delivered, with a manifest written last.

Layout (the same under S3): raw/<dataset>/source=<s>/ingest_date=<d>/batch_id=<b>/<file>
plus `_manifest.json` in the batch directory (hidden from Spark's readers by its `_`).
A claim file per content hash (raw/<dataset>/_by_sha256/<sha>.json) is written first, so
a re-delivery is a no-op and a crash mid-batch resumes into the same batch directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from marketpulse.errors import IngestError

MANIFEST = "_manifest.json"


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

    @property
    def partition_path(self) -> str:
        return f"source={self.source}/ingest_date={self.ingest_date}/batch_id={self.batch_id}"


@dataclass(frozen=True)
class WriteResult:
    manifest: BatchManifest
    is_new: bool


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


class BronzeWriter:
    """Writes batches under a local raw root (the S3 writer shares this contract)."""

    def __init__(self, raw_root: Path) -> None:
        self.raw_root = raw_root

    def write_batch(
        self,
        *,
        dataset: str,
        source: str,
        content: bytes,
        record_count: int,
        schema_version: int,
        filename: str = "data.csv",
        now: datetime | None = None,
    ) -> WriteResult:
        if record_count <= 0 or not content:
            raise IngestError(f"{dataset} delivery from {source} is empty; nothing to land")
        sha = hashlib.sha256(content).hexdigest()
        claim = self.raw_root / dataset / "_by_sha256" / f"{sha}.json"
        if claim.exists():
            batch_dir = self.raw_root / dataset / json.loads(claim.read_text())["partition_path"]
            manifest_path = batch_dir / MANIFEST
            if manifest_path.exists():
                return WriteResult(BatchManifest(**json.loads(manifest_path.read_text())), False)
            manifest = BatchManifest(**json.loads(claim.read_text())["manifest"])
        else:
            at = (now or datetime.now(UTC)).astimezone(UTC)
            manifest = BatchManifest(
                dataset=dataset,
                source=source,
                batch_id=f"{at:%Y%m%dT%H%M%S%f}Z-{sha[:12]}",
                ingest_date=at.date().isoformat(),
                ingested_at=at.isoformat(),
                record_count=record_count,
                byte_size=len(content),
                sha256=sha,
                schema_version=schema_version,
                file=filename,
            )
            claim.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(
                claim,
                json.dumps(
                    {"partition_path": manifest.partition_path, "manifest": asdict(manifest)}
                ).encode(),
            )
        batch_dir = self.raw_root / dataset / manifest.partition_path
        batch_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(batch_dir / manifest.file, content)
        # The manifest is the commit marker: written last.
        _atomic_write(batch_dir / MANIFEST, json.dumps(asdict(manifest), indent=2).encode())
        return WriteResult(manifest, True)

    def committed_batches(self, dataset: str) -> list[BatchManifest]:
        root = self.raw_root / dataset
        return sorted(
            (
                BatchManifest(**json.loads(p.read_text()))
                for p in root.glob(f"source=*/ingest_date=*/batch_id=*/{MANIFEST}")
            ),
            key=lambda m: m.batch_id,
        )
