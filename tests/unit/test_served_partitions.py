"""Which partitions a new version of a partitioned table serves (promotion's plan)."""

from __future__ import annotations

import pytest

from marketpulse.errors import PublishError
from marketpulse.publish import PublishManifest, served_partitions

TABLE = "silver.prices_daily"
COLUMNS = [["ticker", "string"], ["close", "double"], ["trade_month", "string"]]
SERVED = {f"trade_month=2024-0{m}": f"/t/_v=r1/trade_month=2024-0{m}" for m in (4, 5, 6)}


def _previous(columns: list[list[str]] = COLUMNS) -> PublishManifest:
    return PublishManifest(
        layer="silver",
        run_id="r1",
        published_at="2026-01-01T00:00:00",
        tables={TABLE: "/t/_v=r1"},
        gate={},
        schemas={TABLE: columns},
        partitions={TABLE: SERVED},
    )


def _built(*months: int) -> dict[str, str]:
    return {f"trade_month=2024-0{m}": f"/t/_v=r2/trade_month=2024-0{m}" for m in months}


def test_months_before_the_window_are_kept_and_the_rest_replaced() -> None:
    served = served_partitions(_previous(), TABLE, COLUMNS, "2024-05-01", _built(5, 6, 7))
    assert served == {"trade_month=2024-04": SERVED["trade_month=2024-04"], **_built(5, 6, 7)}


def test_a_full_rebuild_serves_exactly_what_it_built() -> None:
    assert served_partitions(_previous(), TABLE, COLUMNS, None, _built(6)) == _built(6)


def test_an_incremental_build_never_drops_a_published_month() -> None:
    with pytest.raises(
        PublishError, match=r"no rows for published months \['trade_month=2024-05'\]"
    ):
        served_partitions(_previous(), TABLE, COLUMNS, "2024-05-01", _built(6))


def test_an_incremental_build_needs_a_partitioned_predecessor_with_the_same_columns() -> None:
    with pytest.raises(PublishError, match="--full-refresh"):
        served_partitions(None, TABLE, COLUMNS, "2024-05-01", _built(5, 6))
    with pytest.raises(PublishError, match="changed its columns"):
        served_partitions(_previous(COLUMNS[:2]), TABLE, COLUMNS, "2024-05-01", _built(5, 6))


def test_a_sparse_table_may_lose_a_month_it_no_longer_has_rows_for() -> None:
    served = served_partitions(_previous(), TABLE, COLUMNS, "2024-05-01", _built(6), sparse=True)
    assert served == {"trade_month=2024-04": SERVED["trade_month=2024-04"], **_built(6)}


def test_an_appended_log_keeps_every_month_it_did_not_rewrite_whatever_the_window() -> None:
    # Rewrites June (its published rows copied beside new ones) and adds July.
    for rebuild_from in (None, "2024-06-01"):
        served = served_partitions(
            _previous(), TABLE, COLUMNS, rebuild_from, _built(6, 7), appended=True
        )
        assert served == {**SERVED, **_built(6, 7)}
    # Nothing new to log: the published log stays as it is.
    assert served_partitions(_previous(), TABLE, COLUMNS, None, {}, appended=True) == SERVED


def test_an_appended_log_needs_its_published_partitioned_version() -> None:
    with pytest.raises(PublishError, match="keep its published partitions"):
        served_partitions(None, TABLE, COLUMNS, None, _built(7), appended=True)
    with pytest.raises(PublishError, match="changed its columns"):
        served_partitions(_previous(COLUMNS[1:]), TABLE, COLUMNS, None, _built(7), appended=True)


def test_a_log_derived_anew_serves_what_it_built_even_inside_a_window() -> None:
    # The first build after the log became partitioned: nothing partitioned to keep.
    for previous in (None, _previous()):
        served = served_partitions(previous, TABLE, COLUMNS, "2024-06-01", _built(7), whole=True)
        assert served == _built(7)
