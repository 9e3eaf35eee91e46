"""The trading calendar feed: exchange sessions from `exchange_calendars`, not from the data.

The calendar is delivered to bronze like any other feed, covering whole years around the
dates the price data brings, so a vendor file reaching back decades still finds its sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from importlib.metadata import version
from typing import Any

EXCHANGE = "XNYS"
# exchange_calendars is unreliable before 1970; older bars are quarantined as off-calendar.
EARLIEST = date(1970, 1, 2)


def calendar_source() -> str:
    return f"exchange_calendars-{version('exchange_calendars')}"


def covering_years(first: date, last: date) -> tuple[date, date]:
    """Whole calendar years around [first, last] (so the delivery changes only yearly)."""
    return max(date(first.year, 1, 1), EARLIEST), date(last.year, 12, 31)


def session_records(start: date, end: date, exchange: str = EXCHANGE) -> Iterator[dict[str, Any]]:
    import exchange_calendars as xcals

    calendar = xcals.get_calendar(exchange, start=start.isoformat(), end=end.isoformat())
    schedule = calendar.schedule.loc[start.isoformat() : end.isoformat()]
    early = {ts.date() for ts in calendar.early_closes}
    for line, (session, row) in enumerate(schedule.iterrows(), start=1):
        yield {
            "line_number": line,
            "exchange": exchange,
            "session_date": session.date().isoformat(),
            "open_at": row["open"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "close_at": row["close"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "is_half_day": "true" if session.date() in early else "false",
        }
