from __future__ import annotations

from pathlib import Path

import pytest

from marketpulse.config import Settings


def test_local_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MARKETPULSE_DBT_TARGET", "MARKETPULSE_RAW_BUCKET", "MARKETPULSE_THRIFT_PORT"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env(home=tmp_path)
    assert (s.target, s.host, s.port, s.manages_engine) == ("local", "127.0.0.1", 10000, True)
    assert s.raw_root == str(tmp_path.resolve() / "raw")


def test_emr_target_reads_the_terraform_outputs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The names `terraform output -raw project_env` exports (infra/envs/dev/outputs.tf).
    monkeypatch.setenv("MARKETPULSE_DBT_TARGET", "emr")
    monkeypatch.setenv("MARKETPULSE_EMR_THRIFT_HOST", "127.0.0.1")
    monkeypatch.setenv("MARKETPULSE_EMR_THRIFT_PORT", "10001")
    monkeypatch.setenv("MARKETPULSE_RAW_BUCKET", "mp-dev-raw")
    s = Settings.from_env(home=tmp_path)
    assert (s.host, s.port, s.user) == ("127.0.0.1", 10001, "hadoop")
    assert not s.manages_engine  # EMR's own Thrift server; nothing is started locally
    assert s.raw_root == "s3://mp-dev-raw/raw"


def test_an_s3_lake_lands_bronze_in_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from moto import mock_aws

    from marketpulse.ingestion.s3 import S3BronzeWriter
    from marketpulse.pipeline import Pipeline

    monkeypatch.setenv("MARKETPULSE_RAW_BUCKET", "mp-dev-raw")
    monkeypatch.setenv("MARKETPULSE_KMS_KEY_ARN", "arn:aws:kms:eu-west-1:123456789012:key/k")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        pipeline = Pipeline(Settings.from_env(home=tmp_path), progress=lambda _m: None)
        assert isinstance(pipeline.writer, S3BronzeWriter)
