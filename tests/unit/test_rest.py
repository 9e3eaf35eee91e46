"""The Alpha Vantage connector against a real HTTP server on 127.0.0.1 (documented shapes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from marketpulse.errors import TransientError
from marketpulse.ingestion.bronze import BronzeWriter
from marketpulse.ingestion.contracts import PRICES_DAILY
from marketpulse.ingestion.errors import (
    ApiError,
    ApiRateLimited,
    ApiUnavailable,
    MissingSetting,
)
from marketpulse.ingestion.rest import (
    API_KEY_ENV,
    AlphaVantageDaily,
    RetryPolicy,
    api_key_from_env,
)

KEY = "test-key-0123"
LAST_SESSION = date(2024, 6, 28)
# Messages as Alpha Vantage words them (HTTP 200 bodies).
PER_MINUTE_NOTE = (
    "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute "
    "and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would "
    "like to target a higher API call frequency."
)
DAILY_QUOTA = (
    "We have detected your API key as TEST and our standard API rate limit is 25 requests per "
    "day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ "
    "to instantly remove all daily rate limits."
)
INVALID_KEY = (
    "the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
)
INVALID_CALL = (
    "Invalid API call. Please retry or visit the documentation "
    "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."
)
PREMIUM = (
    "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any "
    "of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all "
    "premium endpoints"
)


def sessions(count: int, last: date = LAST_SESSION) -> list[date]:
    """`count` weekdays ending at `last`, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def daily_payload(symbol: str, days: list[date], size: str) -> dict[str, Any]:
    shown = days[-100:] if size == "compact" else days
    series = {
        d.isoformat(): {
            "1. open": f"{100 + i:.4f}",
            "2. high": f"{101 + i:.4f}",
            "3. low": f"{99 + i:.4f}",
            "4. close": f"{100.5 + i:.4f}",
            "5. volume": str(1000 + i),
        }
        for i, d in enumerate(days)
        if d in shown
    }
    return {
        "Meta Data": {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": symbol,
            "3. Last Refreshed": days[-1].isoformat(),
            "4. Output Size": "Compact" if size == "compact" else "Full size",
            "5. Time Zone": "US/Eastern",
        },
        # Newest first, as the API sends it.
        "Time Series (Daily)": dict(sorted(series.items(), reverse=True)),
    }


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; bytes as is; None -> the daily series for the query
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0


@dataclass
class FakeAlphaVantage:
    url: str
    history: list[date] = field(default_factory=lambda: sessions(150))
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def next_reply(self) -> Reply:
        # The last scripted reply repeats: "500 forever" is one entry.
        return self.script.pop(0) if len(self.script) > 1 else (self.script or [Reply()])[0]


def _handler(fake: FakeAlphaVantage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(parse_qsl(urlsplit(self.path).query))
            fake.requests.append(query)
            reply = fake.next_reply()
            time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            body = reply.body
            if body is None:
                body = daily_payload(query["symbol"], fake.history, query["outputsize"])
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def api() -> Iterator[FakeAlphaVantage]:
    fake = FakeAlphaVantage(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/query"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@dataclass
class Sleeps:
    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


POLICY = RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_cap=8.0, rate_limit_wait=60.0)


def client(api: FakeAlphaVantage, sleep: Callable[[float], None], **kw: Any) -> AlphaVantageDaily:
    kw.setdefault("retry", POLICY)
    return AlphaVantageDaily(KEY, base_url=api.url, sleep=sleep, rng=lambda: 0.5, **kw)


# --- success and size ----------------------------------------------------------------------
def test_records_come_oldest_first_with_values_as_delivered(api: FakeAlphaVantage) -> None:
    sleeps = Sleeps()
    records = list(client(api, sleeps).daily_bars("IBM", outputsize="compact"))
    assert len(records) == 100 and sleeps.calls == []
    assert records[0] == {
        "line_number": 1,
        "ticker": "IBM",
        "trade_date": api.history[50].isoformat(),
        "open": "150.0000",
        "high": "151.0000",
        "low": "149.0000",
        "close": "150.5000",
        "volume": "1050",
        "adj_close": None,
    }
    assert [r["line_number"] for r in records] == list(range(1, 101))
    dates = [r["trade_date"] for r in records]
    assert dates == sorted(dates) and dates[-1] == "2024-06-28"
    assert api.requests == [
        {
            "function": "TIME_SERIES_DAILY",
            "symbol": "IBM",
            "outputsize": "compact",
            "datatype": "json",
            "apikey": KEY,
        }
    ]


def test_full_output_returns_the_whole_history(api: FakeAlphaVantage) -> None:
    records = list(client(api, Sleeps()).daily_bars("IBM", outputsize="full"))
    assert len(records) == 150 and records[0]["trade_date"] == api.history[0].isoformat()
    assert [q["outputsize"] for q in api.requests] == ["full"]


def test_auto_stays_compact_when_the_window_reaches_back_to_since(api: FakeAlphaVantage) -> None:
    since = api.history[-10]
    records = list(client(api, Sleeps()).daily_bars("IBM", since=since))
    assert [r["trade_date"] for r in records] == [d.isoformat() for d in api.history[-10:]]
    assert [r["line_number"] for r in records] == list(range(1, 11))
    assert [q["outputsize"] for q in api.requests] == ["compact"]


def test_auto_asks_for_full_when_compact_stops_short_of_since(api: FakeAlphaVantage) -> None:
    since = api.history[20]  # older than the latest 100 sessions
    records = list(client(api, Sleeps()).daily_bars("IBM", since=since))
    assert [r["trade_date"] for r in records] == [d.isoformat() for d in api.history[20:]]
    assert [q["outputsize"] for q in api.requests] == ["compact", "full"]


def test_auto_without_since_fetches_full_once(api: FakeAlphaVantage) -> None:
    assert len(list(client(api, Sleeps()).daily_bars("IBM"))) == 150
    assert [q["outputsize"] for q in api.requests] == ["full"]


def test_a_short_history_is_complete_in_compact(api: FakeAlphaVantage) -> None:
    api.history = sessions(40)  # a recent listing: compact already holds everything
    records = list(client(api, Sleeps()).daily_bars("NEWCO", since=date(2020, 1, 1)))
    assert len(records) == 40 and [q["outputsize"] for q in api.requests] == ["compact"]


def test_records_land_as_a_prices_batch(api: FakeAlphaVantage, tmp_path: Path) -> None:
    records = client(api, Sleeps()).daily_bars("IBM", outputsize="compact")
    manifest = BronzeWriter(tmp_path).write_records(PRICES_DAILY, "alphavantage", records).manifest
    part = tmp_path / "prices_daily" / manifest.partition_path / "part-00000.csv"
    lines = part.read_text().splitlines()
    assert manifest.record_count == 100 and lines[1].startswith("1,IBM,")
    assert lines[1].endswith(",150.5000,,1050")  # close, empty adj_close, volume


# --- retries ---------------------------------------------------------------------------------
def test_429_waits_for_retry_after_then_succeeds(api: FakeAlphaVantage) -> None:
    api.script = [Reply(429, {"message": "slow down"}, {"Retry-After": "7"}), Reply()]
    sleeps = Sleeps()
    assert len(list(client(api, sleeps).daily_bars("IBM", outputsize="compact"))) == 100
    assert sleeps.calls == [7.0] and len(api.requests) == 2


def test_retry_after_is_capped_in_seconds_and_http_date_form(api: FakeAlphaVantage) -> None:
    far = format_datetime(datetime.now(UTC) + timedelta(hours=5), usegmt=True)
    api.script = [
        Reply(429, b"", {"Retry-After": "86400"}),
        Reply(429, b"", {"Retry-After": far}),
        Reply(429, b""),  # no header: the exponential backoff
        Reply(),
    ]
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=4, backoff_base=1.0, retry_after_cap=30.0)
    list(client(api, sleeps, retry=policy).daily_bars("IBM", outputsize="compact"))
    assert sleeps.calls == [30.0, 30.0, 3.0]  # backoff(3) = 4/2 + 0.5 * 4/2


def test_500_twice_then_success_backs_off_exponentially(api: FakeAlphaVantage) -> None:
    api.script = [Reply(500, b"oops"), Reply(503, b"busy"), Reply()]
    sleeps = Sleeps()
    assert len(list(client(api, sleeps).daily_bars("IBM", outputsize="compact"))) == 100
    assert sleeps.calls == [0.75, 1.5] and len(api.requests) == 3


def test_500_forever_gives_a_typed_transient_error_after_max_attempts(
    api: FakeAlphaVantage,
) -> None:
    api.script = [Reply(500, b"internal error")]
    sleeps = Sleeps()
    with pytest.raises(ApiUnavailable) as info:
        client(api, sleeps).daily_bars("IBM", outputsize="compact")
    error = info.value
    assert isinstance(error, TransientError) and not isinstance(error, ApiRateLimited)
    assert len(api.requests) == 4 and error.attempts == 4
    assert sleeps.calls == [0.75, 1.5, 3.0]  # no sleep after the last attempt
    assert error.symbol == "IBM" and "HTTP 500" in error.last_error
    assert KEY not in str(error)


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0)
    assert [policy.backoff(n, lambda: 0.0) for n in (1, 2, 3, 4, 5, 9)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert [policy.backoff(n, lambda: 1.0) for n in (1, 4, 9)] == [1.0, 8.0, 8.0]


def test_connection_reset_and_timeout_are_retried(api: FakeAlphaVantage) -> None:
    api.script = [Reply(drop=True), Reply(delay=1.0), Reply()]
    sleeps, notes = Sleeps(), []
    records = client(api, sleeps, timeout=0.2, progress=notes.append).daily_bars(
        "IBM", outputsize="compact"
    )
    assert len(list(records)) == 100
    assert len(api.requests) == 3 and len(sleeps.calls) == 2
    assert "RemoteDisconnected" in notes[0] and "timed out" in notes[1]


def test_in_body_rate_limit_note_is_transient(api: FakeAlphaVantage) -> None:
    api.script = [Reply(body={"Note": PER_MINUTE_NOTE}), Reply()]
    sleeps = Sleeps()
    assert len(list(client(api, sleeps).daily_bars("IBM", outputsize="compact"))) == 100
    assert sleeps.calls == [60.0] and len(api.requests) == 2


def test_in_body_rate_limit_that_never_lifts_is_a_typed_rate_limit(api: FakeAlphaVantage) -> None:
    api.script = [
        Reply(
            body={
                "Information": "Please consider spreading out your calls: our "
                "standard API rate limit is 5 requests per minute."
            }
        )
    ]
    with pytest.raises(ApiRateLimited) as info:
        client(api, Sleeps()).daily_bars("IBM", outputsize="compact")
    assert isinstance(info.value, TransientError) and len(api.requests) == 4


def test_daily_quota_is_not_retried_within_the_run(api: FakeAlphaVantage) -> None:
    api.script = [Reply(body={"Information": DAILY_QUOTA})]
    sleeps = Sleeps()
    with pytest.raises(ApiRateLimited, match="daily quota"):
        client(api, sleeps).daily_bars("IBM", outputsize="compact")
    assert len(api.requests) == 1 and sleeps.calls == []


# --- terminal errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "status", "match"),
    [
        (Reply(body={"Error Message": INVALID_KEY}), None, "apikey is invalid"),
        (Reply(body={"Error Message": INVALID_CALL}), None, "Invalid API call"),
        (Reply(body={"Information": PREMIUM}), None, "premium endpoint"),
        (Reply(401, {"error": "unauthorised"}), 401, "unauthorised"),
        (Reply(403, b"forbidden"), 403, "forbidden"),
        (Reply(404, b"no such path"), 404, "no such path"),
        (Reply(body=b"<html>maintenance</html>"), None, "not JSON"),
        (Reply(body=[1, 2]), None, "JSON list"),
        (Reply(body={"Meta Data": {}}), None, "no 'Time Series \\(Daily\\)'"),
    ],
)
def test_terminal_errors_raise_at_once_without_retries(
    api: FakeAlphaVantage, reply: Reply, status: int | None, match: str
) -> None:
    api.script = [reply]
    sleeps = Sleeps()
    with pytest.raises(ApiError, match=match) as info:
        client(api, sleeps).daily_bars("IBM", outputsize="compact")
    assert not isinstance(info.value, TransientError)
    assert info.value.status == status and info.value.symbol == "IBM"
    assert len(api.requests) == 1 and sleeps.calls == []
    assert KEY not in str(info.value)


def test_a_bar_missing_a_field_is_refused_not_landed_as_null(api: FakeAlphaVantage) -> None:
    payload = daily_payload("IBM", sessions(3), "compact")
    del payload["Time Series (Daily)"]["2024-06-27"]["4. close"]
    api.script = [Reply(body=payload)]
    with pytest.raises(ApiError, match="bar 2024-06-27 lacks"):
        client(api, Sleeps()).daily_bars("IBM", outputsize="compact")


# --- the key -----------------------------------------------------------------------------------
def test_the_key_is_read_from_the_environment_only_by_the_helper() -> None:
    assert api_key_from_env({API_KEY_ENV: " abc "}) == "abc"
    for env in ({}, {API_KEY_ENV: "  "}):
        with pytest.raises(MissingSetting, match=API_KEY_ENV) as info:
            api_key_from_env(env)
        assert info.value.names == (API_KEY_ENV,)
    with pytest.raises(MissingSetting):
        AlphaVantageDaily("")
