"""A seeded, deterministic generator of daily OHLCV bars on real NYSE sessions."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np

DEFAULT_TICKERS = ("AAPL", "MSFT", "JPM", "XOM", "JNJ", "AMZN", "CAT", "NEE")
DEFAULT_START = date(2024, 1, 2)
DEFAULT_END = date(2024, 12, 31)
DEFAULT_SEED = 7


def nyse_sessions(start: date, end: date) -> list[date]:
    import exchange_calendars as xcals

    calendar = xcals.get_calendar("XNYS", start=start.isoformat(), end=end.isoformat())
    return [ts.date() for ts in calendar.sessions_in_range(start.isoformat(), end.isoformat())]


def _price(value: float) -> str:
    return f"{value:.4f}"


def generate_prices(
    tickers: Sequence[str] = DEFAULT_TICKERS,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    seed: int = DEFAULT_SEED,
) -> Iterator[dict[str, Any]]:
    """One bar per ticker per NYSE session as bronze `prices_daily` records, reproducibly."""
    sessions = nyse_sessions(start, end)
    line = 0
    for ticker in sorted(tickers):
        # Seed per ticker so adding a ticker never changes another ticker's bars.
        rng = np.random.default_rng([seed, zlib.crc32(ticker.encode())])
        prev_close = float(rng.uniform(20, 400))
        for session in sessions:
            open_ = round(prev_close * float(np.exp(rng.normal(0, 0.004))), 4)
            close = round(open_ * float(np.exp(rng.normal(0.0003, 0.015))), 4)
            # Rounded open/close are fixed points of rounding, so these bounds survive it.
            high = round(max(open_, close) * (1 + abs(float(rng.normal(0, 0.006)))), 4)
            low = round(min(open_, close) * (1 - abs(float(rng.normal(0, 0.006)))), 4)
            line += 1
            yield {
                "line_number": line,
                "ticker": ticker,
                "trade_date": session.isoformat(),
                "open": _price(open_),
                "high": _price(high),
                "low": _price(low),
                "close": _price(close),
                "volume": int(rng.lognormal(14, 0.4)),
            }
            prev_close = close
