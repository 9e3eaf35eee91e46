from __future__ import annotations

from pathlib import Path

import pytest

from marketpulse.config import Lake, Settings
from marketpulse.errors import PublishError
from marketpulse.publish import PublishManifest, collect_garbage

TABLES = ("prices_daily", "quarantine")


def _publish(lake: Lake, n: int, run: str, version: str | None = None) -> None:
    tables = {f"silver.{t}": f"file:{lake.tables}/silver/{t}/_v={version or run}" for t in TABLES}
    PublishManifest(
        layer="silver", run_id=run, published_at=f"2026-01-0{n}T00:00:00", tables=tables, gate={}
    ).write(lake.publish / "silver")


def _lake_with_runs(tmp_path: Path, published: list[str], built: list[str]) -> Lake:
    lake = Settings(home=tmp_path).lake
    for run in built:
        for table in TABLES:
            (lake.tables / "silver" / table / f"_v={run}").mkdir(parents=True)
    for n, run in enumerate(published, start=1):
        _publish(lake, n, run)
    return lake


def _left(lake: Lake) -> list[str]:
    return sorted({p.name for p in (lake.tables / "silver").glob("*/_v=*")})


def test_only_recent_promotions_and_the_running_build_survive(tmp_path: Path) -> None:
    lake = _lake_with_runs(
        tmp_path, published=["r1", "r2", "r4"], built=["r1", "r2", "r3", "r4", "r5"]
    )  # r3 was blocked, r5 is running
    removed = collect_garbage(lake, "silver", keep=2, current_run="r5")
    assert sorted(p.name for p in removed) == ["_v=r1", "_v=r1", "_v=r3", "_v=r3"]
    assert _left(lake) == ["_v=r2", "_v=r4", "_v=r5"]


def test_a_rollback_keeps_the_version_it_serves(tmp_path: Path) -> None:
    lake = _lake_with_runs(tmp_path, published=["r1", "r2", "r1"], built=["r1", "r2"])
    collect_garbage(lake, "silver", keep=1, current_run="r9")
    assert _left(lake) == ["_v=r1"]


def test_what_a_kept_manifest_points_at_survives_whatever_its_name(tmp_path: Path) -> None:
    lake = _lake_with_runs(tmp_path, published=[], built=["r1", "hand-run"])
    _publish(lake, 1, "r1", version="hand-run")
    collect_garbage(lake, "silver", keep=1, current_run="r2")
    assert _left(lake) == ["_v=hand-run"]


def test_keeping_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError):
        collect_garbage(Settings(home=tmp_path).lake, "silver", keep=0, current_run="r")


def test_older_runs_serving_partitions_of_an_incremental_version_survive(tmp_path: Path) -> None:
    lake = Settings(home=tmp_path).lake
    root = lake.tables / "silver" / "prices_daily"
    for run, months in {"r1": ["2024-05", "2024-06"], "r2": ["2024-06"], "r0": ["2024-05"]}.items():
        for month in months:
            (root / f"_v={run}" / f"trade_month={month}").mkdir(parents=True)
    served = {  # r2 rebuilt June only; May is still served from r1's directory
        "trade_month=2024-05": f"file:{root}/_v=r1/trade_month=2024-05",
        "trade_month=2024-06": f"file:{root}/_v=r2/trade_month=2024-06",
    }
    PublishManifest(
        layer="silver",
        run_id="r2",
        published_at="2026-01-02T00:00:00",
        tables={"silver.prices_daily": f"file:{root}/_v=r2"},
        gate={},
        partitions={"silver.prices_daily": served},
        rebuild_from="2024-06-01",
    ).write(lake.publish / "silver")
    removed = collect_garbage(lake, "silver", keep=1, current_run="r3")
    assert [p.name for p in removed] == ["_v=r0"]
    assert sorted(p.name for p in root.glob("_v=*")) == ["_v=r1", "_v=r2"]
