"""Markers by folder: tests/unit is fast and engine-free; tests/integration needs the engine."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for marker in ("unit", "integration", "infra"):
            if marker in parts:
                item.add_marker(getattr(pytest.mark, marker))
