"""One real Spark Thrift engine for the whole test session, on a free port, with its own lake."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from marketpulse.config import Settings
from marketpulse.engine import Engine, EngineClient, free_port
from marketpulse.pipeline import BuildReport, Pipeline


@contextmanager
def engine_on_own_lake(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Settings]:
    """A Thrift engine on a free port with a new lake, stopped afterwards."""
    s = Settings(home=Path(tmp_path_factory.mktemp(name)), port=free_port())
    engine = Engine(s)
    engine.start(progress=print)
    try:
        yield s
    finally:
        engine.stop(progress=print)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with engine_on_own_lake(tmp_path_factory, "lake") as s:
        yield s


@pytest.fixture(scope="session")
def default_run(settings: Settings) -> BuildReport:
    """The whole pipeline once on the embedded default data (what `make run` does)."""
    return Pipeline(settings).run()


@pytest.fixture()
def client(settings: Settings) -> Iterator[EngineClient]:
    c = EngineClient(settings)
    yield c
    c.close()


def snapshot(client: EngineClient, table: str) -> list[tuple[Any, ...]]:
    """Every row of a published table, in a stable order."""
    return sorted(client.query(f"select * from {table}"), key=repr)


def served_runs(served: str | dict[str, str]) -> set[str]:
    """The runs whose version directories a table (or each of its partitions) serves."""
    locations = [served] if isinstance(served, str) else list(served.values())
    return {re.search(r"/_v=([^/]+)", location).group(1) for location in locations}
