"""Typed errors of the ingestion stage. Each names what failed and says what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

from marketpulse.errors import IngestError, TransientError


class MissingSetting(IngestError):
    """Required configuration is absent from the environment."""

    def __init__(self, names: Sequence[str], purpose: str) -> None:
        self.names, self.purpose = tuple(names), purpose
        super().__init__(
            f"{purpose} needs the environment variable(s) {', '.join(self.names)}; "
            "export them (never commit them) and run again"
        )


# --- vendor file drops ---------------------------------------------------------------------
class VendorFileError(IngestError):
    """A delivered file cannot become a batch at all; nothing was landed."""

    def __init__(self, path: str | PathLike[str], dataset: str, message: str) -> None:
        self.path, self.dataset = str(path), dataset
        super().__init__(message)


class EmptyDelivery(VendorFileError):
    """The file has no data lines (empty, or a header only)."""

    def __init__(self, path: str | PathLike[str], dataset: str, detail: str) -> None:
        self.detail = detail
        super().__init__(
            path,
            dataset,
            f"{path}: {dataset} delivery {detail}; nothing was landed. Ask the vendor to "
            "re-deliver the file with its data",
        )


class UnreadableFile(VendorFileError):
    """The file cannot be read to its end: truncated, broken gzip, I/O error."""

    def __init__(self, path: str | PathLike[str], dataset: str, detail: str) -> None:
        self.detail = detail
        super().__init__(
            path,
            dataset,
            f"{path}: {dataset} delivery cannot be read: {detail}. Nothing was landed; "
            "fetch the file again (check its size against the vendor's) and re-run",
        )


class ContractError(VendorFileError):
    """The file's header does not match the dataset's contract."""

    def __init__(
        self,
        path: str | PathLike[str],
        dataset: str,
        *,
        found: Sequence[str],
        expected: Sequence[str],
        missing: Sequence[str] = (),
        detail: str = "",
    ) -> None:
        self.found, self.expected, self.missing = tuple(found), tuple(expected), tuple(missing)
        self.detail = detail
        problem = detail or f"missing column(s) {', '.join(self.missing)}"
        super().__init__(
            path,
            dataset,
            f"{path}: {dataset} header does not match its contract: {problem}. "
            f"Found columns {list(self.found)}; expected {list(self.expected)} (matched "
            "case-insensitively, ignoring spaces, underscores and dashes). Fix the export or "
            "the column names and deliver again",
        )


# --- REST API --------------------------------------------------------------------------------
class ApiError(IngestError):
    """The API refused the request or answered something unusable; retrying will not help."""

    def __init__(self, api: str, symbol: str, detail: str, status: int | None = None) -> None:
        self.api, self.symbol, self.detail, self.status = api, symbol, detail, status
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(
            f"{api} request for {symbol} failed{code}: {detail}. Check the API key, the symbol "
            "and the plan's entitlements; nothing was landed"
        )


class ApiUnavailable(IngestError, TransientError):
    """The API kept failing transiently (5xx, resets, timeouts) through every attempt."""

    def __init__(self, api: str, symbol: str, attempts: int, last_error: str) -> None:
        self.api, self.symbol, self.attempts, self.last_error = api, symbol, attempts, last_error
        super().__init__(
            f"{api} request for {symbol} still failing after {attempts} attempts "
            f"(last: {last_error}); nothing was landed. Run the ingest again later"
        )


class ApiRateLimited(ApiUnavailable):
    """The API's rate limit held through every attempt (the quota may be per day)."""


# --- object storage --------------------------------------------------------------------------
class StorageError(IngestError):
    """Object storage refused an operation (access, KMS, bucket): retrying will not help."""

    def __init__(self, bucket: str, key: str, operation: str, detail: str) -> None:
        self.bucket, self.key, self.operation, self.detail = bucket, key, operation, detail
        super().__init__(
            f"{operation} s3://{bucket}/{key} failed: {detail}. Check the bucket name, the "
            "KMS key ARN and the role's permissions; the batch has no manifest, so no reader "
            "sees it, and a re-run resumes it"
        )


class StorageUnavailable(IngestError, TransientError):
    """Object storage kept failing transiently through every attempt."""

    def __init__(self, bucket: str, key: str, operation: str, attempts: int, detail: str) -> None:
        self.bucket, self.key, self.operation = bucket, key, operation
        self.attempts, self.detail = attempts, detail
        super().__init__(
            f"{operation} s3://{bucket}/{key} still failing after {attempts} attempts "
            f"(last: {detail}); the batch has no manifest, so no reader sees it. Re-run the "
            "ingest: it resumes into the same batch"
        )


class BatchInProgress(IngestError, TransientError):
    """Another writer claimed the same content a moment ago and is landing it now."""

    def __init__(self, dataset: str, sha256: str, claim_uri: str) -> None:
        self.dataset, self.sha256, self.claim_uri = dataset, sha256, claim_uri
        super().__init__(
            f"another writer is landing this {dataset} delivery (claim {claim_uri}); re-run "
            "once it has finished: the re-run is a no-op if it committed, and resumes it if not"
        )
