from __future__ import annotations

from datetime import date

from marketpulse.ingestion import synthetic


def test_same_seed_gives_same_records_and_another_seed_does_not() -> None:
    assert list(synthetic.generate_prices(seed=7)) == list(synthetic.generate_prices(seed=7))
    assert list(synthetic.generate_prices(seed=7)) != list(synthetic.generate_prices(seed=8))


def test_one_bar_per_ticker_per_nyse_session() -> None:
    rows = list(synthetic.generate_prices())
    assert len(rows) == 252 * len(synthetic.DEFAULT_TICKERS)
    assert [r["line_number"] for r in rows] == list(range(1, len(rows) + 1))
    dates = {r["trade_date"] for r in rows}
    assert "2024-07-04" not in dates  # Independence Day
    assert "2024-03-29" not in dates  # Good Friday
    assert "2024-11-29" in dates  # the half day after Thanksgiving is a session
    assert all(date.fromisoformat(d).weekday() < 5 for d in dates)
    assert len({(r["ticker"], r["trade_date"]) for r in rows}) == len(rows)


def test_bars_are_internally_consistent() -> None:
    for r in synthetic.generate_prices():
        o, h, lo, c = (float(r[k]) for k in ("open", "high", "low", "close"))
        assert 0 < lo <= min(o, c) <= max(o, c) <= h, r
        assert int(r["volume"]) >= 0


def test_adding_a_ticker_leaves_the_others_unchanged() -> None:
    def bars(tickers: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [
            (r["trade_date"], r["close"])
            for r in synthetic.generate_prices(tickers=tickers)
            if r["ticker"] == "AAPL"
        ]

    assert bars(("AAPL",)) == bars(("AAPL", "ZZZ"))
