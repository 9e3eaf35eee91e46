"""Daily bars from Alpha Vantage `TIME_SERIES_DAILY`, as bronze `prices_daily` records.

Why this endpoint: it is Alpha Vantage's free daily series (TIME_SERIES_DAILY_ADJUSTED has been
premium-only since 2023) and it delivers raw, as-traded OHLCV, which is what the prices
contract holds; splits and dividends come from the corporate actions feed, and `adj_close`
stays empty rather than mixing in the vendor's own adjustment.

The documented response (values are JSON strings, newest date first):
  {"Meta Data": {"1. Information": ..., "2. Symbol": "IBM", "3. Last Refreshed": ...,
                 "4. Output Size": "Compact", "5. Time Zone": "US/Eastern"},
   "Time Series (Daily)": {"2024-06-28": {"1. open": "170.8400", "2. high": ...,
                           "3. low": ..., "4. close": ..., "5. volume": "7128224"}, ...}}
There is no pagination: `outputsize=compact` returns the latest 100 sessions and `full` the
whole history (on some plans `full` is premium, answered like any refusal below).

Alpha Vantage answers most errors with HTTP 200 and a one-key body: {"Error Message": ...}
(invalid call, unknown symbol, missing key) is terminal; {"Note": ...}, or {"Information": ...}
about call frequency, is its rate limit: transient, except a per-day quota, which no wait within
a run cures; any other {"Information": ...} (premium endpoint, demo key) is terminal.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from marketpulse.ingestion.errors import ApiError, ApiRateLimited, ApiUnavailable, MissingSetting

API = "Alpha Vantage TIME_SERIES_DAILY"
API_KEY_ENV = "ALPHAVANTAGE_API_KEY"
DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
SERIES_KEY = "Time Series (Daily)"
COMPACT_SESSIONS = 100  # what outputsize=compact returns
BAR_FIELDS = (
    ("open", "1. open"),
    ("high", "2. high"),
    ("low", "3. low"),
    ("close", "4. close"),
    ("volume", "5. volume"),
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RATE_LIMIT = re.compile(r"rate limit|call frequency|(calls|requests) per (minute|day)", re.I)
_PER_MINUTE, _PER_DAY = re.compile(r"per minute", re.I), re.compile(r"per day", re.I)

OutputSize = Literal["auto", "compact", "full"]
Record = dict[str, Any]


def api_key_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The key from ALPHAVANTAGE_API_KEY, read once at the edge of the program."""
    key = (os.environ if environ is None else environ).get(API_KEY_ENV, "").strip()
    if not key:
        raise MissingSetting([API_KEY_ENV], "the Alpha Vantage connector")
    return key


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 1.0  # seconds around which the 2nd attempt waits; doubles each time
    backoff_cap: float = 60.0
    retry_after_cap: float = 300.0  # a longer Retry-After is cut to this
    rate_limit_wait: float = 60.0  # in-body notes carry no Retry-After; the window is a minute

    def backoff(self, attempt: int, rng: Callable[[], float]) -> float:
        """Exponential with equal jitter: half fixed, half random, so clients spread out."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + rng() * ceiling / 2


@dataclass(frozen=True)
class _Retry:
    reason: str
    wait: float | None = None  # None: the policy's backoff
    rate_limited: bool = False


class AlphaVantageDaily:
    """A client for TIME_SERIES_DAILY. The key is given, never read from the environment here."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if not api_key:
            raise MissingSetting([API_KEY_ENV], "the Alpha Vantage connector")
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep, self.rng = sleep, rng
        self.progress = progress or (lambda _message: None)

    def daily_bars(
        self, symbol: str, *, since: date | None = None, outputsize: OutputSize = "auto"
    ) -> Iterator[Record]:
        """Bars of `symbol` (from `since` on, when given), oldest first, values as delivered.

        "auto" asks for the compact series and falls back to the full one only when the
        compact window does not reach back to `since` (no `since`: the full history).
        The request runs now, so its errors surface here; `line_number` is the bar's position
        in date order among the returned records.
        """
        size: Literal["compact", "full"] = "compact" if outputsize == "compact" else "full"
        if outputsize == "auto" and since is not None:
            size = "compact"
        ticker, bars = self._fetch(symbol, size)
        if outputsize == "auto" and size == "compact" and not _covers(bars, since):
            ticker, bars = self._fetch(symbol, "full")
        if since is not None:
            bars = [(day, bar) for day, bar in bars if day >= since.isoformat()]
        return iter(
            [
                {"line_number": n, "ticker": ticker, "trade_date": day, **bar, "adj_close": None}
                for n, (day, bar) in enumerate(bars, start=1)
            ]
        )

    # --- one request ---------------------------------------------------------------------
    def _fetch(self, symbol: str, size: str) -> tuple[str, list[tuple[str, dict[str, str]]]]:
        params = {
            "function": "TIME_SERIES_DAILY",
            "symbol": symbol,
            "outputsize": size,
            "datatype": "json",
            "apikey": self._api_key,
        }
        return _parse(symbol, self._get(symbol, f"{self.base_url}?{urlencode(params)}"))

    def _get(self, symbol: str, url: str) -> dict[str, Any]:
        attempts = self.retry.max_attempts
        outcome: _Retry | None = None
        for attempt in range(1, attempts + 1):
            result = self._attempt(symbol, url)
            if not isinstance(result, _Retry):
                return result
            outcome = result
            if attempt < attempts:
                wait = result.wait
                if wait is None:
                    wait = self.retry.backoff(attempt, self.rng)
                self.progress(
                    f"{API} {symbol}: {result.reason}; retrying in {wait:.1f}s "
                    f"(attempt {attempt + 1} of {attempts})"
                )
                self.sleep(wait)
        assert outcome is not None
        error = ApiRateLimited if outcome.rate_limited else ApiUnavailable
        raise error(API, symbol, attempts, outcome.reason)

    def _attempt(self, symbol: str, url: str) -> dict[str, Any] | _Retry:
        request = Request(url, headers={"Accept": "application/json"})
        try:
            with urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except HTTPError as exc:  # its URL holds the key: never chain or print it
            try:
                detail = _excerpt(exc.read() if exc.fp else b"") or str(exc.reason)
            finally:
                exc.close()
            if exc.code == 429:
                wait = self._retry_after(exc.headers.get("Retry-After"))
                return _Retry("HTTP 429 Too Many Requests", wait, rate_limited=True)
            if exc.code >= 500:
                return _Retry(f"HTTP {exc.code}: {detail}")
            raise ApiError(API, symbol, detail, status=exc.code) from None
        except (URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            return _Retry(f"{type(exc).__name__}: {reason}")
        return self._classify(symbol, body)

    def _classify(self, symbol: str, body: bytes) -> dict[str, Any] | _Retry:
        try:
            # Numbers, should any arrive unquoted, keep their delivered text.
            payload = json.loads(body, parse_float=str, parse_int=str)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(API, symbol, f"the response is not JSON: {_excerpt(body)!r}") from None
        if not isinstance(payload, dict):
            raise ApiError(API, symbol, f"the response is a JSON {type(payload).__name__}")
        if "Error Message" in payload:
            raise ApiError(API, symbol, str(payload["Error Message"]))
        if SERIES_KEY in payload:
            return payload
        message = str(payload.get("Note") or payload.get("Information") or "")
        if "Note" in payload or _RATE_LIMIT.search(message):
            if _PER_DAY.search(message) and not _PER_MINUTE.search(message):
                # A daily quota: waiting minutes cannot help, so no retries are spent on it.
                raise ApiRateLimited(API, symbol, 1, f"daily quota reached: {message}")
            wait = min(self.retry.rate_limit_wait, self.retry.retry_after_cap)
            return _Retry(f"rate limited: {message}", wait, rate_limited=True)
        if message:
            raise ApiError(API, symbol, message)
        return payload  # _parse names what is missing

    def _retry_after(self, value: str | None) -> float | None:
        """Seconds to wait from a Retry-After header (seconds or HTTP date), capped."""
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - datetime.now(UTC)).total_seconds()
        return min(max(seconds, 0.0), self.retry.retry_after_cap)


def _excerpt(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode("utf-8", "replace").strip()


def _covers(bars: list[tuple[str, dict[str, str]]], since: date | None) -> bool:
    """Whether a compact answer reaches back to `since` (a short one is the whole history)."""
    if since is None:
        return False
    return len(bars) < COMPACT_SESSIONS or (bool(bars) and bars[0][0] <= since.isoformat())


def _parse(symbol: str, payload: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    series = payload.get(SERIES_KEY)
    if not isinstance(series, dict):
        raise ApiError(
            API, symbol, f"no {SERIES_KEY!r} object in the response (keys: {sorted(payload)})"
        )
    meta = payload.get("Meta Data")
    ticker = meta.get("2. Symbol") if isinstance(meta, dict) else None
    bars = []
    for day in sorted(series):  # ISO dates sort chronologically; the API sends newest first
        bar = series[day]
        if not _ISO_DATE.fullmatch(day):
            raise ApiError(API, symbol, f"unexpected date key {day!r} in {SERIES_KEY!r}")
        if not isinstance(bar, dict) or not all(isinstance(bar.get(k), str) for _, k in BAR_FIELDS):
            raise ApiError(
                API, symbol, f"bar {day} lacks one of {[k for _, k in BAR_FIELDS]}: {bar!r}"
            )
        bars.append((day, {name: bar[key] for name, key in BAR_FIELDS}))
    return (ticker if isinstance(ticker, str) and ticker else symbol), bars
