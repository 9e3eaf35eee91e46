from __future__ import annotations

import csv
import io
from datetime import date

from marketpulse.ingestion import synthetic


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_same_seed_gives_same_bytes_and_another_seed_does_not() -> None:
    a, count_a = synthetic.generate_prices(seed=7)
    b, count_b = synthetic.generate_prices(seed=7)
    c, _ = synthetic.generate_prices(seed=8)
    assert a == b and count_a == count_b
    assert a != c


def test_one_bar_per_ticker_per_nyse_session() -> None:
    content, count = synthetic.generate_prices()
    rows = _rows(content)
    assert len(rows) == count == 252 * len(synthetic.DEFAULT_TICKERS)
    dates = {r["trade_date"] for r in rows}
    assert "2024-07-04" not in dates  # Independence Day
    assert "2024-03-29" not in dates  # Good Friday
    assert "2024-11-29" in dates  # half day after Thanksgiving is a session
    assert all(date.fromisoformat(d).weekday() < 5 for d in dates)
    assert len({(r["ticker"], r["trade_date"]) for r in rows}) == count


def test_bars_are_internally_consistent() -> None:
    for r in _rows(synthetic.generate_prices()[0]):
        o, h, lo, c = (float(r[k]) for k in ("open", "high", "low", "close"))
        assert 0 < lo <= min(o, c) <= max(o, c) <= h, r
        assert int(r["volume"]) >= 0


def test_adding_a_ticker_leaves_the_others_unchanged() -> None:
    small = _rows(synthetic.generate_prices(tickers=("AAPL",))[0])
    large = [
        r
        for r in _rows(synthetic.generate_prices(tickers=("AAPL", "ZZZ"))[0])
        if r["ticker"] == "AAPL"
    ]
    assert small == large
