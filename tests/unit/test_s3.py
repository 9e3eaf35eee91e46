"""The S3 bronze writer against moto (the only stand-in: AWS is unreachable here).

moto stores SSE-KMS headers and enforces If-None-Match, but it does not evaluate bucket-policy
conditions (a conditional Deny on PutObject denies every put, with or without the CMK), so the
"CMK on every put" rule is checked on the requests themselves (a botocore event hook) and on
the stored objects (head_object), not through a bucket policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from moto import mock_aws

from marketpulse.errors import IngestError, TransientError
from marketpulse.ingestion.bronze import MANIFEST, BronzeWriter, Rejection
from marketpulse.ingestion.contracts import PRICES_DAILY
from marketpulse.ingestion.errors import (
    BatchInProgress,
    MissingSetting,
    StorageError,
    StorageUnavailable,
)
from marketpulse.ingestion.s3 import S3BronzeWriter, S3Settings, is_transient

MiB = 1024 * 1024
REGION = "us-east-1"
BUCKET = "marketpulse-raw-test"
NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
BARS = [
    {
        "line_number": n,
        "ticker": "AAA",
        "trade_date": f"2024-01-0{n + 1}",
        "open": "1",
        "high": "2",
        "low": "0.5",
        "close": f"1.{n}",
        "volume": "10",
    }
    for n in (1, 2, 3)
]
REJECTED = [Rejection(4, "csv_field_count", "expected 7 fields, found 2", "2024-01-05,1")]


class Crash(Exception):
    """Stands in for the process dying at a chosen request."""


@dataclass
class Puts:
    """Every PutObject as the client is about to send it, and an optional fault to inject."""

    params: list[dict[str, Any]] = field(default_factory=list)
    fail: Any = None  # callable(params) -> exception to raise, or None

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.params.append(dict(params))
        error = self.fail(params) if self.fail else None
        if error is not None:
            raise error

    @property
    def keys(self) -> list[str]:
        return [p["Key"] for p in self.params]


@dataclass
class Lake:
    s3: Any
    settings: S3Settings
    puts: Puts
    sleeps: list[float]

    def writer(self, **kw: Any) -> S3BronzeWriter:
        kw.setdefault("sleep", self.sleeps.append)
        return S3BronzeWriter(self.settings, self.s3, rng=lambda: 0.5, **kw)

    def object_keys(self) -> list[str]:
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.fixture
def lake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lake]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        config = Config(retries={"mode": "standard", "total_max_attempts": 1})
        s3 = boto3.client("s3", region_name=REGION, config=config)
        key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        s3.create_bucket(Bucket=BUCKET)
        puts = Puts()
        s3.meta.events.register("before-parameter-build.s3.PutObject", puts)
        yield Lake(s3, S3Settings(BUCKET, key_arn, REGION), puts, [])


def _original(tmp_path: Path, name: str = "vendor.csv") -> Path:
    path = tmp_path / name
    path.write_text("Date,Open,High,Low,Close,Volume\n...\n")
    return path


def _prefix(manifest: Any) -> str:
    return f"raw/prices_daily/{manifest.partition_path}/"


# --- layout ----------------------------------------------------------------------------------
def test_layout_and_manifest_match_the_local_writer(lake: Lake, tmp_path: Path) -> None:
    original = _original(tmp_path)
    result = lake.writer().write_records(
        PRICES_DAILY, "vendor", BARS, rejections=REJECTED, original=original, now=NOW
    )
    m = result.manifest
    assert result.is_new and m.ingest_date == "2026-01-05" and m.record_count == 3
    prefix = _prefix(m)
    assert prefix.startswith("raw/prices_daily/source=vendor/ingest_date=2026-01-05/batch_id=")
    assert lake.object_keys() == sorted(
        [
            f"raw/prices_daily/_by_sha256/{m.sha256}.json",
            prefix + "part-00000.csv",
            prefix + "_original-vendor.csv",
            prefix + MANIFEST,
            f"raw/rejected_records/{m.partition_path}/part-00000.jsonl",
        ]
    )

    local = BronzeWriter(tmp_path / "local").write_records(
        PRICES_DAILY, "vendor", BARS, rejections=REJECTED, original=original, now=NOW
    )
    assert local.manifest == m  # same hash, batch id, counts, status
    local_dir = tmp_path / "local" / "prices_daily" / m.partition_path

    def body(key: str) -> bytes:
        return lake.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    assert body(prefix + "part-00000.csv") == (local_dir / "part-00000.csv").read_bytes()
    assert body(prefix + "_original-vendor.csv") == original.read_bytes()
    assert json.loads(body(prefix + MANIFEST)) == asdict(m)
    rejected = [
        json.loads(line)
        for line in body(f"raw/rejected_records/{m.partition_path}/part-00000.jsonl").splitlines()
    ]
    assert rejected == [{**asdict(REJECTED[0]), "dataset": "prices_daily"}]
    assert lake.writer().committed_batches("prices_daily") == [m]
    assert lake.writer().batch_uri(m) == f"s3://{BUCKET}/{prefix}"


def test_a_batch_whose_part_file_is_gone_has_no_data_in_either_writer(
    lake: Lake, tmp_path: Path
) -> None:
    """What registration checks every registered batch against: a bad sync that kept the
    manifest but lost the part file shows, in S3 and on disk alike."""
    corrected = [{**BARS[0], "close": "9.9"}]
    s3 = lake.writer()
    kept = s3.write_records(PRICES_DAILY, "vendor", BARS, now=NOW).manifest
    lost = s3.write_records(PRICES_DAILY, "vendor", corrected, now=NOW).manifest
    assert s3.scan("prices_daily").with_data == {kept.batch_id, lost.batch_id}
    lake.s3.delete_object(Bucket=BUCKET, Key=_prefix(lost) + "part-00000.csv")
    scan = s3.scan("prices_daily")
    assert scan.with_data == {kept.batch_id}
    assert lost in scan.manifests  # the manifest alone is still there

    local = BronzeWriter(tmp_path / "local")
    for records in (BARS, corrected):
        local.write_records(PRICES_DAILY, "vendor", records, now=NOW)
    (tmp_path / "local" / "prices_daily" / lost.partition_path / "part-00000.csv").unlink()
    assert local.scan("prices_daily").with_data == {kept.batch_id}


def test_a_scan_reads_no_manifest_of_a_registered_batch(lake: Lake, tmp_path: Path) -> None:
    """Registration skips the batches it knows: their manifests are not read again (one
    GET each on S3, on every build), so its cost does not grow with history. Proof: a
    skipped batch's manifest is unreadable, and the scan still succeeds."""
    corrected = [{**BARS[0], "close": "9.9"}]
    s3 = lake.writer()
    known = s3.write_records(PRICES_DAILY, "vendor", BARS, now=NOW).manifest
    new = s3.write_records(PRICES_DAILY, "vendor", corrected, now=NOW).manifest
    lake.s3.put_object(Bucket=BUCKET, Key=_prefix(known) + MANIFEST, Body=b"not json")
    scan = s3.scan("prices_daily", skip={known.batch_id})
    assert scan.manifests == [new]
    assert scan.with_data == {known.batch_id, new.batch_id}
    with pytest.raises(json.JSONDecodeError):
        s3.scan("prices_daily")

    local = BronzeWriter(tmp_path / "local")
    known = local.write_records(PRICES_DAILY, "vendor", BARS, now=NOW).manifest
    new = local.write_records(PRICES_DAILY, "vendor", corrected, now=NOW).manifest
    (tmp_path / "local" / "prices_daily" / known.partition_path / MANIFEST).write_text("not json")
    scan = local.scan("prices_daily", skip={known.batch_id})
    assert scan.manifests == [new]
    assert scan.with_data == {known.batch_id, new.batch_id}
    with pytest.raises(json.JSONDecodeError):
        local.scan("prices_daily")


def test_claim_goes_first_and_the_manifest_last(lake: Lake, tmp_path: Path) -> None:
    lake.writer().write_records(
        PRICES_DAILY, "vendor", BARS, rejections=REJECTED, original=_original(tmp_path), now=NOW
    )
    keys = lake.puts.keys
    assert "/_by_sha256/" in keys[0] and keys[-1].endswith("/" + MANIFEST)
    assert len(keys) == 5


def test_every_put_carries_the_cmk_and_a_sha256_checksum(lake: Lake, tmp_path: Path) -> None:
    lake.writer().write_records(
        PRICES_DAILY, "vendor", BARS, rejections=REJECTED, original=_original(tmp_path), now=NOW
    )
    arn = lake.settings.kms_key_arn
    assert len(lake.puts.params) == 5
    for params in lake.puts.params:
        assert params["ServerSideEncryption"] == "aws:kms", params["Key"]
        assert params["SSEKMSKeyId"] == arn, params["Key"]
        assert params["ChecksumAlgorithm"] == "SHA256", params["Key"]
    for key in lake.object_keys():
        head = lake.s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == arn, key
        assert head.get("ChecksumSHA256"), key


def test_multipart_uploads_carry_the_cmk_too(lake: Lake, tmp_path: Path) -> None:
    starts: list[dict[str, Any]] = []
    lake.s3.meta.events.register(
        "before-parameter-build.s3.CreateMultipartUpload", lambda params, **_: starts.append(params)
    )
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (6 * MiB))  # two parts at the 5 MiB minimum part size
    writer = lake.writer(transfer_config=TransferConfig(multipart_threshold=5 * MiB))
    m = writer.write_records(PRICES_DAILY, "vendor", BARS, original=big, now=NOW).manifest
    assert [p["Key"] for p in starts] == [_prefix(m) + "_original-big.csv"]
    assert starts[0]["ServerSideEncryption"] == "aws:kms"
    assert starts[0]["SSEKMSKeyId"] == lake.settings.kms_key_arn
    assert starts[0]["ChecksumAlgorithm"] == "SHA256"
    head = lake.s3.head_object(Bucket=BUCKET, Key=_prefix(m) + "_original-big.csv")
    assert head["ContentLength"] == 6 * MiB and head["SSEKMSKeyId"] == lake.settings.kms_key_arn


def test_quarantined_status_travels_with_the_batch(lake: Lake) -> None:
    m = (
        lake.writer()
        .write_records(PRICES_DAILY, "vendor", BARS[:1], rejections=REJECTED, now=NOW)
        .manifest
    )
    assert m.status == "quarantined" and "1 of 2 lines" in (m.reason or "")


def test_a_quarantined_batch_delivered_again_lands_again_for_review(lake: Lake) -> None:
    landed = lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW).manifest
    marked = lake.writer().quarantine(landed, "bronze gate failed: record count")
    assert lake.writer().committed_batches("prices_daily") == [marked]
    assert lake.puts.params[-1]["ServerSideEncryption"] == "aws:kms"  # the rewrite too

    again = lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)

    assert again.is_new and again.manifest == landed
    assert lake.writer().committed_batches("prices_daily") == [landed]


def test_nothing_to_land_is_an_error_and_puts_nothing(lake: Lake) -> None:
    with pytest.raises(IngestError, match="no records"):
        lake.writer().write_records(PRICES_DAILY, "vendor", [], now=NOW)
    assert lake.object_keys() == [] and lake.puts.params == []


# --- idempotency and resume -----------------------------------------------------------------------
def test_redelivery_is_a_no_op(lake: Lake) -> None:
    first = lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    keys, puts = lake.object_keys(), len(lake.puts.params)
    again = lake.writer().write_records(
        PRICES_DAILY, "vendor", BARS, now=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert not again.is_new and again.manifest == first.manifest
    assert lake.object_keys() == keys and len(lake.puts.params) == puts  # nothing uploaded again
    assert len(lake.writer().committed_batches("prices_daily")) == 1


def test_a_corrected_delivery_is_a_new_batch(lake: Lake) -> None:
    lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    corrected = [{**BARS[0], "close": "9.9"}, *BARS[1:]]
    assert lake.writer().write_records(PRICES_DAILY, "vendor", corrected, now=NOW).is_new
    assert len(lake.writer().committed_batches("prices_daily")) == 2


def test_crash_before_the_manifest_resumes_into_the_same_batch(lake: Lake, tmp_path: Path) -> None:
    lake.puts.fail = lambda p: Crash() if p["Key"].endswith(MANIFEST) else None
    with pytest.raises(Crash):
        lake.writer().write_records(
            PRICES_DAILY, "vendor", BARS, original=_original(tmp_path, "a.csv"), now=NOW
        )
    [claim_key] = [k for k in lake.object_keys() if "/_by_sha256/" in k]
    claimed = json.loads(lake.s3.get_object(Bucket=BUCKET, Key=claim_key)["Body"].read())
    assert any(k.endswith("part-00000.csv") for k in lake.object_keys())
    assert lake.writer().committed_batches("prices_daily") == []  # invisible without manifest

    lake.puts.fail = None  # the rerun, a day later, with the file under another name
    later = datetime(2026, 1, 6, tzinfo=UTC)
    result = lake.writer().write_records(
        PRICES_DAILY, "vendor", BARS, original=_original(tmp_path, "b.csv"), now=later
    )
    m = result.manifest
    assert result.is_new and m.batch_id == claimed["manifest"]["batch_id"]
    assert m.ingest_date == "2026-01-05" and m.original_file == "_original-b.csv"
    assert lake.object_keys() == sorted(
        [
            claim_key,
            _prefix(m) + "part-00000.csv",
            _prefix(m) + "_original-b.csv",
            _prefix(m) + MANIFEST,
        ]
    )  # the first attempt's _original-a.csv is gone: the manifest describes what is there
    assert lake.writer().committed_batches("prices_daily") == [m]


def test_crash_right_after_the_claim_resumes_too(lake: Lake) -> None:
    lake.puts.fail = lambda p: Crash() if p["Key"].endswith("part-00000.csv") else None
    with pytest.raises(Crash):
        lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    lake.puts.fail = None
    result = lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    assert result.is_new and len(lake.writer().committed_batches("prices_daily")) == 1


def test_losing_the_claim_race_does_not_touch_the_winners_files(lake: Lake) -> None:
    writer = lake.writer()

    def rival_claims_first(params: dict[str, Any]) -> None:
        if "/_by_sha256/" in params["Key"] and not lake.object_keys():
            lake.puts.fail = None
            lake.s3.put_object(Bucket=BUCKET, Key=params["Key"], Body=b'{"manifest": {}}')
        return None

    lake.puts.fail = rival_claims_first
    with pytest.raises(BatchInProgress) as info:
        writer.write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    assert isinstance(info.value, TransientError)
    assert [k for k in lake.object_keys() if "/_by_sha256/" not in k] == []


# --- retries ---------------------------------------------------------------------------------
def _slow_down() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "SlowDown", "Message": "Reduce your request rate."},
            "ResponseMetadata": {"HTTPStatusCode": 503},
        },
        "PutObject",
    )


def test_transient_errors_are_retried_with_backoff(lake: Lake) -> None:
    faults = iter([ConnectionClosedError(endpoint_url="https://s3"), _slow_down()])

    def flaky_part(params: dict[str, Any]) -> Exception | None:
        return next(faults, None) if params["Key"].endswith("part-00000.csv") else None

    lake.puts.fail = flaky_part
    result = lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    assert result.is_new and lake.sleeps == [0.375, 0.75]
    assert sum(k.endswith("part-00000.csv") for k in lake.puts.keys) == 3


def test_transient_errors_forever_give_a_typed_error_after_n_attempts(lake: Lake) -> None:
    lake.puts.fail = lambda p: _slow_down() if p["Key"].endswith(".csv") else None
    with pytest.raises(StorageUnavailable) as info:
        lake.writer(max_attempts=3).write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    error = info.value
    assert isinstance(error, TransientError) and error.attempts == 3
    assert error.key.endswith("part-00000.csv") and error.bucket == BUCKET
    assert sum(k.endswith("part-00000.csv") for k in lake.puts.keys) == 3
    assert len(lake.sleeps) == 2
    assert not any(k.endswith(MANIFEST) for k in lake.object_keys())


def test_a_refusal_is_terminal_at_once(lake: Lake) -> None:
    denied = ClientError(
        {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "PutObject",
    )
    lake.puts.fail = lambda p: denied
    with pytest.raises(StorageError, match="AccessDenied") as info:
        lake.writer().write_records(PRICES_DAILY, "vendor", BARS, now=NOW)
    assert not isinstance(info.value, TransientError)
    assert len(lake.puts.params) == 1 and lake.sleeps == []


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        ("SlowDown", 503, True),
        ("InternalError", 500, True),
        ("RequestTimeout", 400, True),
        ("AccessDenied", 403, False),
        ("KMS.NotFoundException", 400, False),
        ("NoSuchBucket", 404, False),
    ],
)
def test_error_classification(code: str, status: int, transient: bool) -> None:
    error = ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
    )
    assert is_transient(error) is transient


# --- settings ----------------------------------------------------------------------------------
def test_settings_from_env() -> None:
    env = {
        "MARKETPULSE_RAW_BUCKET": "b",
        "MARKETPULSE_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:1:key/k",
        "AWS_REGION": "eu-west-1",
    }
    assert S3Settings.from_env(env) == S3Settings("b", "arn:aws:kms:eu-west-1:1:key/k", "eu-west-1")
    with pytest.raises(MissingSetting) as info:
        S3Settings.from_env({"MARKETPULSE_RAW_BUCKET": "b"})
    assert info.value.names == ("MARKETPULSE_KMS_KEY_ARN", "AWS_REGION")
