"""The check that decides whether a peer's time counts must be able to fail."""

from __future__ import annotations

import pandas as pd

from bench.peers import COMPARED, mismatches


def _frame() -> pd.DataFrame:
    row = dict.fromkeys(COMPARED, 1.5)
    row.update(sma_200=None, is_new_52w_high=False, is_new_52w_low=True)
    return pd.DataFrame(
        [
            {"ticker": "AAA", "trade_date": "2024-01-02", **row},
            {"ticker": "AAA", "trade_date": "2024-01-03", **row, "return_1d": -0.25},
        ]
    )


def test_identical_results_match_whatever_the_date_type() -> None:
    peer = _frame().assign(trade_date=lambda f: pd.to_datetime(f.trade_date))
    assert mismatches(_frame(), peer) == []


def test_a_value_off_by_more_than_the_tolerance_is_reported() -> None:
    peer = _frame()
    peer.loc[1, "return_1d"] = -0.25 * (1 + 1e-6)
    assert mismatches(_frame(), peer) == ["return_1d: 0 NULL mismatches, 1 values off"]


def test_a_null_where_the_project_has_a_value_is_reported() -> None:
    peer = _frame()
    peer.loc[0, "ema_12"] = None
    assert mismatches(_frame(), peer) == ["ema_12: 1 NULL mismatches, 0 values off"]


def test_missing_rows_are_reported() -> None:
    assert mismatches(_frame(), _frame().iloc[:1]) == ["keys differ: project 2 rows, peer 1 rows"]
