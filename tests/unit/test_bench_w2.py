"""W2's repeated sessions: how a delivery is cut and which build is reported (no engine)."""

from __future__ import annotations

import pytest

from bench.workloads import by_session, median_increment


def test_a_delivery_is_cut_into_sessions_each_numbered_from_one() -> None:
    bars = [
        {"ticker": t, "trade_date": d, "line_number": n}
        for n, (d, t) in enumerate(
            [("2024-12-30", "A"), ("2024-12-27", "A"), ("2024-12-30", "B"), ("2024-12-31", "A")],
            start=1,
        )
    ]
    cut = by_session(bars)
    assert [day for day, _ in cut] == ["2024-12-27", "2024-12-30", "2024-12-31"]
    assert [[(r["ticker"], r["line_number"]) for r in rs] for _, rs in cut] == [
        [("A", 1)],
        [("A", 1), ("B", 2)],
        [("A", 1)],
    ]
    assert sorted((r["ticker"], r["trade_date"]) for _, rs in cut for r in rs) == sorted(
        (r["ticker"], r["trade_date"]) for r in bars
    )


@pytest.mark.parametrize(
    ("totals", "median"), [([9.0], 9.0), ([5.0, 9.0, 7.0], 7.0), ([5.0, 9.0, 7.0, 6.0], 6.0)]
)
def test_the_median_build_is_reported_with_every_session_total(
    totals: list[float], median: float
) -> None:
    increments = [{"total_s": t, "session": str(i)} for i, t in enumerate(totals)]
    reported = median_increment(increments)
    assert reported["total_s"] == median
    assert reported["sessions_total_s"] == totals
