"""The S3 bronze writer: the local BronzeWriter's layout and contract, on a bucket.

  s3://<bucket>/<prefix>/<dataset>/source=<s>/ingest_date=<d>/batch_id=<b>/
    part-00000.csv|jsonl, _original-<name>, _manifest.json (uploaded last: the commit marker)
  s3://<bucket>/<prefix>/rejected_records/source=<s>/ingest_date=<d>/batch_id=<b>/part-00000.jsonl
  s3://<bucket>/<prefix>/<dataset>/_by_sha256/<sha256>.json   the claim, written first

Records stream into a local staging file while being hashed (the same serialisation and hash
as the local writer), then go up with `upload_file` (multipart past 8 MiB), so memory stays
flat. The claim is created with `If-None-Match: *`, so of two writers of the same content one
wins and the other resumes or finds the batch done. A claimed batch without a manifest (a
crash between data and manifest) is resumed into the same prefix on the next delivery.

Every put carries SSE-KMS with the project's CMK (the bucket policy denies anything else) and a
SHA-256 checksum that S3 verifies. Transient errors (5xx, throttling, resets, timeouts) are
retried a bounded number of times here — botocore's own retries are off on the default client
so "N attempts" means N — then raise StorageUnavailable; anything else raises StorageError.
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from marketpulse.ingestion.bronze import (
    COMMITTED,
    DEFAULT_MAX_REJECT_RATE,
    MANIFEST,
    PART_GLOB,
    BatchManifest,
    BatchScan,
    Rejection,
    WriteResult,
    stage_batch,
)
from marketpulse.ingestion.contracts import REJECTED_RECORDS, Contract
from marketpulse.ingestion.errors import (
    BatchInProgress,
    MissingSetting,
    StorageError,
    StorageUnavailable,
)

ENV_BUCKET, ENV_KMS_KEY, ENV_REGION = (
    "MARKETPULSE_RAW_BUCKET",
    "MARKETPULSE_KMS_KEY_ARN",
    "AWS_REGION",
)
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)
_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_ABSENT = frozenset({"NoSuchKey", "404", "NotFound"})

T = TypeVar("T")


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    kms_key_arn: str
    region: str
    prefix: str = "raw"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> S3Settings:
        env = os.environ if environ is None else environ
        names = (ENV_BUCKET, ENV_KMS_KEY, ENV_REGION)
        values = {name: env.get(name, "").strip() for name in names}
        missing = [name for name in names if not values[name]]
        if missing:
            raise MissingSetting(missing, "the S3 bronze writer")
        return cls(values[ENV_BUCKET], values[ENV_KMS_KEY], values[ENV_REGION])


def is_transient(exc: BaseException) -> bool:
    """Whether a boto3/botocore failure is worth another attempt."""
    if isinstance(exc, S3UploadFailedError):  # upload_file wraps the ClientError it hit
        cause = exc.__cause__ or exc.__context__
        return cause is not None and is_transient(cause)
    if isinstance(exc, BotoConnectionError | HTTPClientError):  # resets, timeouts, DNS
        return True
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return code in TRANSIENT_CODES or status >= 500 or status == 429
    return False


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def default_client(settings: S3Settings) -> Any:
    """An S3 client for `settings.region` whose own retries are off (this module retries)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client("s3", region_name=settings.region, config=config)


@dataclass(frozen=True)
class _Staged:
    draft: BatchManifest  # batch_id, ingest_date and ingested_at still empty
    part: Path
    rejected: Path | None
    original: Path | None


class S3BronzeWriter:
    """Writes batches to S3 with the local writer's layout, idempotency and commit marker."""

    def __init__(
        self,
        settings: S3Settings,
        client: Any | None = None,
        *,
        max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        staging_root: Path | None = None,
        transfer_config: TransferConfig | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.client = client if client is not None else default_client(settings)
        self.max_reject_rate = max_reject_rate
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.sleep, self.rng = sleep, rng
        self.staging_root = staging_root
        self.progress = progress or (lambda _message: None)
        self._transfer = transfer_config or TransferConfig()  # multipart past 8 MiB

    # --- public ---------------------------------------------------------------------------
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
        with tempfile.TemporaryDirectory(prefix="marketpulse-s3-", dir=self.staging_root) as tmp:
            staged = self._stage(contract, source, records, rejections, original, Path(tmp))
            return self._commit(staged, now)

    def _batch_keys(self, dataset: str) -> list[str]:
        """Every key of the dataset's batches (one paginated listing)."""
        prefix = self._key(dataset, "source=")

        def keys() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.settings.bucket, Prefix=prefix
            )
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

        return self._call("list", prefix, keys)

    def scan(self, dataset: str, skip: Collection[str] = ()) -> BatchScan:
        """One listing of the dataset's batches (see BatchScan); a manifest is one GET."""
        manifest_keys, with_data = [], set()
        for key in self._batch_keys(dataset):
            folder, name = key.rsplit("/", 1)
            batch_id = folder.rsplit("/", 1)[-1].removeprefix("batch_id=")
            if fnmatch.fnmatch(name, PART_GLOB):
                with_data.add(batch_id)
            elif name == MANIFEST and batch_id not in skip:
                manifest_keys.append(key)
        read = [self._read_json(key) for key in manifest_keys]
        manifests = [BatchManifest(**m) for m in read if m is not None]
        return BatchScan(sorted(manifests, key=lambda m: m.batch_id), with_data)

    def committed_batches(self, dataset: str) -> list[BatchManifest]:
        return self.scan(dataset).manifests

    def quarantine(self, manifest: BatchManifest, reason: str) -> BatchManifest:
        """Mark a committed batch quarantined: kept in the bucket, never registered."""
        marked = manifest.quarantined(reason)
        self._put_json(self._manifest_key(marked), asdict(marked), indent=2)
        return marked

    def batch_uri(self, manifest: BatchManifest) -> str:
        return f"s3://{self.settings.bucket}/{self._batch_prefix(manifest)}"

    # --- staging: the local writer's serialisation and hash ---------------------------------
    def _stage(
        self,
        contract: Contract,
        source: str,
        records: Iterable[Mapping[str, Any]],
        rejections: Sequence[Rejection],
        original: Path | None,
        tmp: Path,
    ) -> _Staged:
        draft = stage_batch(
            contract, source, records, rejections, original, tmp, self.max_reject_rate
        )
        part = tmp / contract.part_name
        rejected = tmp / "rejected" / REJECTED_RECORDS.part_name if rejections else None
        return _Staged(draft, part, rejected, original)

    # --- commit -------------------------------------------------------------------------------
    def _commit(self, staged: _Staged, now: datetime | None) -> WriteResult:
        draft = staged.draft
        claim_key = self._key(draft.dataset, "_by_sha256", f"{draft.sha256}.json")
        claim = self._read_json(claim_key)
        if claim is None:
            manifest = draft.landed_at(now or datetime.now(UTC))
            if not self._put_json(claim_key, {"manifest": asdict(manifest)}, exclusive=True):
                # Lost a race to a writer of the same content that is uploading right now:
                # resuming would delete its files under its feet.
                uri = f"s3://{self.settings.bucket}/{claim_key}"
                raise BatchInProgress(draft.dataset, draft.sha256, uri)
        else:
            claimed = BatchManifest(**claim["manifest"])
            landed = self._read_json(self._manifest_key(claimed))
            if landed is not None and landed.get("status", COMMITTED) == COMMITTED:
                return WriteResult(BatchManifest(**landed), is_new=False)
            # A previous attempt died before its manifest, or the batch was quarantined: same
            # batch, this attempt's files, reviewed again.
            manifest = draft.resuming(claimed)
            self.progress(f"s3: landing {draft.dataset} batch {manifest.batch_id} again")
            self._delete_prefix(self._batch_prefix(manifest))
            self._delete_prefix(self._rejected_prefix(manifest))
        prefix = self._batch_prefix(manifest)
        self._upload(staged.part, prefix + manifest.file)
        if staged.original is not None and manifest.original_file:
            self._upload(staged.original, prefix + manifest.original_file)
        if staged.rejected is not None:
            self._upload(staged.rejected, self._rejected_prefix(manifest) + staged.rejected.name)
        # The manifest is the commit marker: uploaded last.
        self._put_json(self._manifest_key(manifest), asdict(manifest), indent=2)
        self.progress(f"s3: committed {self.batch_uri(manifest)}")
        return WriteResult(manifest, is_new=True)

    # --- keys ----------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.settings.prefix.strip("/"), *parts) if p)

    def _batch_prefix(self, manifest: BatchManifest) -> str:
        return self._key(manifest.dataset, manifest.partition_path) + "/"

    def _rejected_prefix(self, manifest: BatchManifest) -> str:
        return self._key(REJECTED_RECORDS.dataset, manifest.partition_path) + "/"

    def _manifest_key(self, manifest: BatchManifest) -> str:
        return self._batch_prefix(manifest) + MANIFEST

    # --- S3 operations, each retried ------------------------------------------------------------
    @property
    def _sse(self) -> dict[str, str]:
        return {
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": self.settings.kms_key_arn,
            "ChecksumAlgorithm": "SHA256",
        }

    def _upload(self, path: Path, key: str) -> None:
        self._call(
            "upload",
            key,
            lambda: self.client.upload_file(
                str(path), self.settings.bucket, key, ExtraArgs=self._sse, Config=self._transfer
            ),
        )

    def _put_json(
        self,
        key: str,
        value: Mapping[str, Any],
        *,
        exclusive: bool = False,
        indent: int | None = None,
    ) -> bool:
        """Put a small JSON object; with `exclusive`, False if the key already existed."""
        body = json.dumps(value, indent=indent).encode()
        condition = {"IfNoneMatch": "*"} if exclusive else {}

        def put() -> bool:
            try:
                self.client.put_object(
                    Bucket=self.settings.bucket,
                    Key=key,
                    Body=body,
                    ContentType="application/json",
                    **condition,
                    **self._sse,
                )
            except ClientError as exc:
                if exclusive and _code(exc) in _LOST_RACE:
                    return False
                raise
            return True

        return self._call("put", key, put)

    def _read_json(self, key: str) -> dict[str, Any] | None:
        def get() -> dict[str, Any] | None:
            try:
                response = self.client.get_object(Bucket=self.settings.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in _ABSENT:
                    return None
                raise
            return json.loads(response["Body"].read())

        return self._call("get", key, get)

    def _delete_prefix(self, prefix: str) -> None:
        def delete() -> None:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.settings.bucket, Prefix=prefix
            )
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:  # a page holds at most 1000 keys, delete_objects' limit
                    self.client.delete_objects(
                        Bucket=self.settings.bucket, Delete={"Objects": keys, "Quiet": True}
                    )

        self._call("delete", prefix, delete)

    def _call(self, operation: str, key: str, fn: Callable[[], T]) -> T:
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return fn()
            except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
                if not is_transient(exc):
                    raise StorageError(
                        self.settings.bucket, key, operation, _describe(exc)
                    ) from exc
                last = _describe(exc)
            if attempt < self.max_attempts:
                ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
                wait = ceiling / 2 + self.rng() * ceiling / 2  # exponential, equal jitter
                self.progress(f"s3: {operation} {key}: {last}; retrying in {wait:.1f}s")
                self.sleep(wait)
        raise StorageUnavailable(self.settings.bucket, key, operation, self.max_attempts, last)
