"""sqlfluff with the dbt templater, which compiles through the session's engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from marketpulse.config import Settings


def test_models_pass_sqlfluff(settings: Settings) -> None:
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run(
        [str(sqlfluff), "lint", "models", "analyses"],
        cwd=settings.project_dir,
        env=settings.dbt_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "PASS" in result.stdout or "All Finished" in result.stdout
