"""The dbt project as analysts use it: docs generate, and the analyses compile and run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from marketpulse.config import Settings
from marketpulse.engine import EngineClient
from marketpulse.pipeline import BuildReport


def _dbt(settings: Settings, target_path: Path, *args: str) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), *args, "--profiles-dir", "profiles", "--target-path", str(target_path)],
        cwd=settings.project_dir,
        env=settings.dbt_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_docs_generate_documents_every_model(
    settings: Settings, default_run: BuildReport, tmp_path: Path
) -> None:
    _dbt(settings, tmp_path, "docs", "generate")
    assert (tmp_path / "catalog.json").exists() and (tmp_path / "index.html").exists()


def test_analyses_compile_and_return_rows(
    settings: Settings, client: EngineClient, default_run: BuildReport, tmp_path: Path
) -> None:
    _dbt(settings, tmp_path, "compile", "--select", "resource_type:analysis")
    compiled = sorted((tmp_path / "compiled").rglob("analyses/*.sql"))
    assert {p.stem for p in compiled} == {
        "top_movers",
        "sector_rotation",
        "sentiment_vs_next_day_return",
    }
    for path in compiled:
        sql = path.read_text()
        assert "gold_audit" not in sql  # analysts read published gold
        assert client.query(sql), path.stem
