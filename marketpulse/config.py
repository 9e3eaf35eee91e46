"""Settings read once at the edge (flags, then environment, then defaults) and passed in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
LAYERS = ("silver", "gold")
AUDIT_SUFFIX = "_audit"


@dataclass(frozen=True)
class Settings:
    home: Path  # the lake: raw files, tables, metastore, logs, reports
    host: str = "127.0.0.1"
    port: int = 10000
    user: str = "marketpulse"
    project_dir: Path = PROJECT_DIR
    target: str = "local"
    raw_bucket: str | None = None  # bronze in s3://<raw_bucket>/raw instead of <home>/raw
    keep_versions: int = 5  # promotions per layer that stay restorable by `rollback`
    cluster_workers: int = 0  # >0: the engine runs on a loopback Spark standalone cluster

    @property
    def manages_engine(self) -> bool:
        """Locally MarketPulse runs its own engine; on EMR the cluster's Thrift server is used."""
        return self.target == "local"

    @property
    def raw_root(self) -> str:
        return f"s3://{self.raw_bucket}/raw" if self.raw_bucket else str(self.lake.raw)

    @classmethod
    def from_env(cls, home: str | Path | None = None, port: int | None = None) -> Settings:
        env_home = os.environ.get("MARKETPULSE_HOME")
        env_port = os.environ.get("MARKETPULSE_THRIFT_PORT")
        resolved_home = Path(home or env_home or PROJECT_DIR / ".lake").expanduser().resolve()
        project = os.environ.get("MARKETPULSE_PROJECT_DIR")
        target = os.environ.get("MARKETPULSE_DBT_TARGET", "local")
        if target == "emr":  # through the SSM port-forward to the EMR primary (infra/README.md)
            host = os.environ.get("MARKETPULSE_EMR_THRIFT_HOST", "127.0.0.1")
            port = port or int(os.environ.get("MARKETPULSE_EMR_THRIFT_PORT", "10001"))
            user = "hadoop"
        else:
            host, user = "127.0.0.1", "marketpulse"
        return cls(
            home=resolved_home,
            host=host,
            port=int(port or env_port or 10000),
            user=user,
            project_dir=Path(project).resolve() if project else PROJECT_DIR,
            target=target,
            raw_bucket=os.environ.get("MARKETPULSE_RAW_BUCKET") or None,
            keep_versions=int(os.environ.get("MARKETPULSE_KEEP_VERSIONS", "5")),
            cluster_workers=max(0, int(os.environ.get("MARKETPULSE_CLUSTER_WORKERS", "0"))),
        )

    @property
    def lake(self) -> Lake:
        return Lake(self.home)

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt and sqlfluff subprocesses so they talk to this engine and lake."""
        return {
            **os.environ,
            "MARKETPULSE_HOME": str(self.home),
            "MARKETPULSE_THRIFT_PORT": str(self.port),
            "DBT_PROFILES_DIR": str(self.project_dir / "profiles"),
        }


@dataclass(frozen=True)
class Lake:
    """The lake's directory layout (same shape as the S3 buckets/prefixes)."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def metastore(self) -> Path:
        return self.root / "metastore_db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def publish(self) -> Path:
        return self.root / "publish"

    @property
    def gx(self) -> Path:
        return self.root / "gx"

    @property
    def engine_pid(self) -> Path:
        return self.root / "engine.json"

    @property
    def run_lock(self) -> Path:
        return self.root / "run.lock"
