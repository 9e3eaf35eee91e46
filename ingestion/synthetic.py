"""A seeded, deterministic generator of daily OHLCV bars on real NYSE sessions."""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Sequence
from datetime import date

import numpy as np

DEFAULT_TICKERS = ("AAPL", "MSFT", "JPM", "XOM", "JNJ", "AMZN", "CAT", "NEE")
DEFAULT_START = date(2024, 1, 2)
DEFAULT_END = date(2024, 12, 31)
DEFAULT_SEED = 7
PRICE_COLUMNS = ("ticker", "trade_date", "open", "high", "low", "close", "volume")


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
) -> tuple[bytes, int]:
    """Return (CSV bytes, record count): one bar per ticker per NYSE session, reproducible."""
    sessions = nyse_sessions(start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PRICE_COLUMNS)
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
            volume = int(rng.lognormal(14, 0.4))
            writer.writerow(
                [
                    ticker,
                    session.isoformat(),
                    _price(open_),
                    _price(high),
                    _price(low),
                    _price(close),
                    volume,
                ]
            )
            prev_close = close
    return out.getvalue().encode(), len(sessions) * len(tickers)
