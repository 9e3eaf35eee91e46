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

    @classmethod
    def from_env(cls, home: str | Path | None = None, port: int | None = None) -> Settings:
        env_home = os.environ.get("MARKETPULSE_HOME")
        env_port = os.environ.get("MARKETPULSE_THRIFT_PORT")
        resolved_home = Path(home or env_home or PROJECT_DIR / ".lake").expanduser().resolve()
        project = os.environ.get("MARKETPULSE_PROJECT_DIR")
        return cls(
            home=resolved_home,
            project_dir=Path(project).resolve() if project else PROJECT_DIR,
            port=int(port or env_port or 10000),
            target=os.environ.get("MARKETPULSE_DBT_TARGET", "local"),
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
