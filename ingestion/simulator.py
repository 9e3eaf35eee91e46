"""The market simulator: the embedded default data of `make run`, with faults on request.

It delivers the five bronze feeds (instruments, corporate actions, daily prices, news articles,
news sentiment) for a universe of real and synthetic companies (see universe.py) on real NYSE
sessions from `exchange_calendars`, half days included.

Prices, per session (log returns):
    r = drift + beta_m * market + beta_s * sector + idiosyncratic
where the market, the 11 sector factors and each ticker's idiosyncratic part have GARCH(1,1)
variance and Student-t innovations (volatility clustering, fat tails). Bars are unadjusted: a
split divides the prices from its ex-date on (and multiplies the volume), and the price falls by
the dividend on an ex-dividend date; both are in the corporate-actions feed.

Reproducible and streamed:
- every random stream is a numpy Generator seeded by (seed, purpose, ticker), never global state;
- history starts at EPOCH whatever the requested range, so a ticker's bars do not depend on the
  window asked for: overlapping runs agree on common bars and consecutive runs join smoothly;
- tickers are simulated in blocks of BLOCK (only the GARCH recursion needs the block) and their
  records are yielded lazily; only per-session factor series are held for the whole range.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np

from marketpulse.ingestion import news
from marketpulse.ingestion.bronze import Rejection
from marketpulse.ingestion.universe import (
    SECTORS,
    Company,
    reference_source,
    stable_hash,
    universe,
)

SOURCE = "simulator"
EPOCH = date(2000, 1, 3)  # first simulated session, unless the range starts earlier
CALENDAR_FLOOR = date(1970, 1, 2)  # exchange_calendars is unreliable before 1970
EARLIEST_START = date(1971, 1, 1)  # leaves a year of sessions for past listing dates
BLOCK = 256  # tickers simulated together
SPLIT_COOLDOWN = 60  # sessions between two splits of one ticker

FAULTS: dict[str, str] = {
    "duplicate_batch": "the last prices delivery delivered again, byte for byte",
    "restated_bar": "a later delivery changing the close of one bar mid-range (+2%)",
    "late_bar": "a bar for the session before the range, delivered after everything else",
    "malformed_lines": "a prices delivery with 2 unreadable lines (field count, encoding)",
    "nan_price": "a re-delivered bar whose close is NaN",
    "inf_price": "a re-delivered bar whose high is +inf",
    "negative_price": "a re-delivered bar whose low is negative",
    "negative_volume": "a re-delivered bar with a negative volume",
    "ohlc_break": "a re-delivered bar whose high is below its low (and its open and close)",
    "split_without_action": "the next session's bars, one ticker halved with no split record",
    "action_without_jump": "a 2-for-1 split record on the last session, whose bars show no jump",
    "missing_column": "a delivery of 3 bars whose records lack `volume`",
}
FAULT_DATASETS = {"action_without_jump": "corporate_actions"}  # the others deliver prices


@dataclass(frozen=True)
class SimulationConfig:
    tickers: int = 50
    start: date = date(2024, 1, 2)
    end: date = date(2024, 12, 31)
    seed: int = 7
    faults: tuple[str, ...] = ()
    batch_sessions: int = 0  # 0: one prices delivery; N: one per N sessions (backfills)

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", tuple(self.faults))
        unknown = sorted(set(self.faults) - set(FAULTS))
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known faults: {sorted(FAULTS)}")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.start < EARLIEST_START:
            raise ValueError(
                f"start {self.start} is before the earliest supported, {EARLIEST_START}"
            )
        if self.tickers < 1:
            raise ValueError(f"tickers must be at least 1, not {self.tickers}")
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {self.seed}")
        if self.batch_sessions < 0:
            raise ValueError(f"batch_sessions must be >= 0, not {self.batch_sessions}")


@dataclass
class Delivery:
    dataset: str  # a key of contracts.CONTRACTS
    source: str
    records: Iterable[Mapping[str, Any]]  # lazily generated
    rejections: list[Rejection]  # filled while records are iterated
    description: str


# --- sessions --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _calendar(last_year: int) -> Any:
    import exchange_calendars as xcals

    # An explicit start: the default window reaches back only ~20 years.
    return xcals.get_calendar(
        "XNYS", start=CALENDAR_FLOOR.isoformat(), end=f"{last_year + 1}-12-31"
    )


@dataclass(frozen=True)
class Sessions:
    """The simulated window: from the first simulated session to one session past `end`."""

    days: np.ndarray  # datetime64[D]
    iso: list[str]
    opens: np.ndarray  # UTC epoch seconds
    closes: np.ndarray  # UTC epoch seconds (13:00 New York on half days)
    first: int  # index of the first session in [start, end]
    last: int  # index of the last session in [start, end]
    earlier: np.ndarray  # sessions since CALENDAR_FLOOR before the window, for listing dates

    def __len__(self) -> int:
        return len(self.days)


def session_window(start: date, end: date) -> Sessions:
    calendar = _calendar(end.year)
    days = calendar.sessions.values.astype("datetime64[D]")
    first = int(np.searchsorted(days, np.datetime64(start), "left"))
    last = int(np.searchsorted(days, np.datetime64(end), "right")) - 1
    if last < first:
        raise ValueError(f"there is no NYSE session between {start} and {end}")
    # One session before the range too (for late_bar), so a range from EPOCH moves the origin.
    origin = min(int(np.searchsorted(days, np.datetime64(EPOCH))), first - 1)
    window = slice(origin, last + 2)
    return Sessions(
        days=days[window],
        iso=[str(d) for d in days[window]],
        opens=calendar.opens.values[window].astype("datetime64[s]").astype(np.int64),
        closes=calendar.closes.values[window].astype("datetime64[s]").astype(np.int64),
        first=first - origin,
        last=last - origin,
        earlier=days[:origin],
    )


# --- factors ---------------------------------------------------------------------------------

MARKET_VOL, MARKET_DRIFT = 0.0095, 0.00025
MAX_SHOCK = 6.0  # standard deviations
MAX_MOVE = 0.25  # the largest log return of a clean session (-22%, +28%)
SECTOR_VOL = dict(
    zip(
        SECTORS,
        (0.007, 0.007, 0.005, 0.011, 0.007, 0.006, 0.006, 0.008, 0.007, 0.007, 0.006),
        strict=True,
    )
)


def _rng(seed: int, *key: object) -> np.random.Generator:
    return np.random.default_rng([seed, stable_hash(*key)])


def _unit_t(rng: np.random.Generator, dof: float, n: int) -> np.ndarray:
    """Student-t draws scaled to unit variance (fat tails without changing the volatility),
    capped at MAX_SHOCK so that no clean session looks like a split."""
    return np.clip(rng.standard_t(dof, n) * np.sqrt((dof - 2.0) / dof), -MAX_SHOCK, MAX_SHOCK)


def garch_sigma(
    z: np.ndarray, long_var: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Conditional volatility of GARCH(1,1) for innovations z of shape (sessions, series).

    var[t+1] = omega + alpha * eps[t]**2 + beta * var[t], eps = sqrt(var) * z, is linear in var:
    var[t+1] = omega + (alpha * z[t]**2 + beta) * var[t], so only a multiply-add is left per step.
    """
    slope = alpha * z * z + beta
    omega = long_var * (1.0 - alpha - beta)
    var = np.empty_like(z)
    var[0] = long_var
    for t in range(1, len(z)):
        np.multiply(slope[t - 1], var[t - 1], out=var[t])
        var[t] += omega
    return np.sqrt(var)


@dataclass(frozen=True)
class Factors:
    market: np.ndarray  # (sessions,) log returns
    market_sigma: np.ndarray
    sectors: np.ndarray  # (11, sessions)
    sector_sigma: np.ndarray


def market_factors(seed: int, n: int) -> Factors:
    z = np.column_stack(
        [_unit_t(_rng(seed, "factor", "market"), 5.0, n)]
        + [_unit_t(_rng(seed, "factor", s), 6.0, n) for s in SECTORS]
    )
    long_var = np.array([MARKET_VOL] + [SECTOR_VOL[s] for s in SECTORS]) ** 2
    alpha = np.full(len(long_var), 0.07)
    alpha[0] = 0.09
    beta = np.full(len(long_var), 0.90)
    beta[0] = 0.89
    sigma = garch_sigma(z, long_var, alpha, beta)
    eps = sigma * z
    return Factors(
        market=eps[:, 0] + MARKET_DRIFT,
        market_sigma=sigma[:, 0].copy(),
        sectors=np.ascontiguousarray(eps[:, 1:].T),
        sector_sigma=np.ascontiguousarray(sigma[:, 1:].T),
    )


# --- tickers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """A ticker's fixed characteristics, drawn from (seed, ticker) alone."""

    price0: float
    drift: float
    beta_market: float
    beta_sector: float
    idio_vol: float
    garch_alpha: float
    garch_beta: float
    dof: float
    dollar_volume: float  # typical value traded per session
    quarterly_yield: float  # 0: pays no dividend
    dividend_month: int  # 1..3: first month of its quarterly cycle
    dividend_day: int
    split_above: float  # a forward split follows a close above this
    split_ratio: float
    reverse_below: float  # a reverse split follows a close below this
    reverse_ratio: float


def ticker_params(seed: int, ticker: str) -> Params:
    u = _rng(seed, "params", ticker).random(16)
    alpha = 0.04 + 0.06 * u[5]
    return Params(
        price0=float(np.exp(np.log(30.0) + 0.7 * _probit(u[0]))),
        drift=0.0002 * _probit(u[1]),
        beta_market=float(np.clip(1.0 + 0.3 * _probit(u[2]), 0.2, 2.2)),
        beta_sector=float(np.clip(0.9 + 0.25 * _probit(u[3]), 0.1, 1.8)),
        idio_vol=0.008 + 0.014 * u[4],
        garch_alpha=alpha,
        garch_beta=min(0.84 + 0.09 * u[6], 0.985 - alpha),
        dof=3.5 + 3.5 * u[7],
        dollar_volume=float(np.exp(np.log(1e8) + 0.8 * _probit(u[8]))),
        quarterly_yield=(0.008 + 0.035 * u[10]) / 4 if u[9] < 0.5 else 0.0,
        dividend_month=1 + int(3 * u[11]),
        dividend_day=1 + int(27 * u[12]),
        split_above=250.0 + 650.0 * u[13],
        split_ratio=(2.0, 2.0, 2.0, 3.0, 4.0, 5.0)[int(6 * u[14])],
        reverse_below=1.0 + 1.5 * u[15],
        reverse_ratio=0.1 if u[15] < 0.5 else 0.2,
    )


_NORMAL = NormalDist()


def _probit(u: float) -> float:
    """The standard normal quantile of u, for parameter draws."""
    return _NORMAL.inv_cdf(min(max(float(u), 1e-9), 1 - 1e-9))


@dataclass(frozen=True)
class Listing:
    company: Company
    listed: date
    delisted: date | None
    lo: int  # window index of its first bar in [start, end]
    hi: int  # window index of its last bar in [start, end]
    ipo: bool  # listed inside the range

    @property
    def ticker(self) -> str:
        return self.company.ticker

    def active(self, index: int) -> bool:
        return self.lo <= index <= self.hi


def listings(config: SimulationConfig, sessions: Sessions) -> list[Listing]:
    """Listing dates for the universe: a few listings and delistings inside the range.

    Past listing dates depend on the ticker only; which tickers list or delist inside the range
    is a quota of the universe (at least one of each from 5 tickers and 20 sessions), drawn per
    (seed, ticker).
    """
    companies = universe(config.tickers)
    first, last = sessions.first, sessions.last
    span = last - first + 1
    events = span >= 20 and len(companies) >= 5
    draws = {c.ticker: _rng(config.seed, "lifecycle", c.ticker).random(4) for c in companies}
    by_ipo = sorted(companies, key=lambda c: (draws[c.ticker][0], c.ticker))
    n_ipo = max(1, round(0.06 * len(companies))) if events else 0
    ipos = {c.ticker for c in by_ipo[:n_ipo]}
    n_exit = max(1, round(0.04 * len(companies))) if events else 0
    by_exit = sorted(
        (c for c in companies if c.ticker not in ipos), key=lambda c: (draws[c.ticker][1], c.ticker)
    )
    exits = {c.ticker for c in by_exit[:n_exit]}

    out = []
    for company in companies:
        u = draws[company.ticker]
        lo, hi = first, last
        if company.ticker in ipos:
            lo = first + int(span * (0.1 + 0.6 * u[2]))
            listed = sessions.days[lo].item()
        else:
            pool = sessions.earlier
            listed = pool[stable_hash("listed", company.ticker) % len(pool)].item()
        if company.ticker in exits:
            hi = first + int(span * (0.35 + 0.6 * u[3]))
        delisted = sessions.days[hi].item() if company.ticker in exits else None
        out.append(Listing(company, listed, delisted, lo, hi, company.ticker in ipos))
    return out


@dataclass(frozen=True)
class Path:
    """One ticker's simulated sessions over the window, up to some index (unadjusted bars)."""

    listing: Listing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    ret: np.ndarray  # the session's log return, before any dividend drop
    sigma: np.ndarray  # its conditional volatility
    splits: list[tuple[int, float]]  # (ex-date index, ratio)
    dividends: list[tuple[int, float]]  # (ex-date index, cash per share)


def _round4(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(x, 4), 0.0001)


def _dividend_days(days: np.ndarray, p: Params) -> np.ndarray:
    """Quarterly ex-dates: the first session on or after a fixed day of every third month."""
    if p.quarterly_yield == 0.0:
        return np.empty(0, dtype=np.int64)
    y0, y1 = int(str(days[0])[:4]), int(str(days[-1])[:4])
    months = np.arange(y0 * 12 + p.dividend_month - 1, (y1 + 1) * 12, 3)
    anchors = (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    idx = np.unique(np.searchsorted(days, anchors + (p.dividend_day - 1)))
    return idx[(idx >= 1) & (idx < len(days))]


def _splits(close: np.ndarray, p: Params) -> list[tuple[int, float]]:
    """Splits follow the price: forward above `split_above`, reverse below `reverse_below`."""
    out: list[tuple[int, float]] = []
    factor, i, n = 1.0, 0, len(close)
    while i < n - 1:
        level = close[i : n - 1] / factor
        hits = np.flatnonzero((level > p.split_above) | (level < p.reverse_below))
        if not hits.size:
            break
        t = i + int(hits[0])
        ratio = p.split_ratio if level[hits[0]] > p.split_above else p.reverse_ratio
        out.append((t + 1, ratio))
        factor *= ratio
        i = t + 1 + SPLIT_COOLDOWN
    return out


class Market:
    """Everything shared by the deliveries of one simulation: sessions, factors, listings."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.sessions = session_window(config.start, config.end)
        self.factors = market_factors(config.seed, len(self.sessions))
        self.listings = listings(config, self.sessions)
        self.half_day = (self.sessions.closes - self.sessions.opens) < 6 * 3600

    def blocks(self, chosen: Sequence[Listing] | None = None) -> Iterator[list[Listing]]:
        chosen = self.listings if chosen is None else chosen
        for i in range(0, len(chosen), BLOCK):
            yield list(chosen[i : i + BLOCK])

    def paths(self, block: Sequence[Listing], until: int) -> Iterator[Path]:
        """Paths over window indices [0, until] of a block of tickers, one at a time."""
        n, seed = until + 1, self.config.seed
        params = [ticker_params(seed, listing.ticker) for listing in block]
        z = np.empty((n, len(block)))
        for j, (listing, p) in enumerate(zip(block, params, strict=True)):
            z[:, j] = _unit_t(_rng(seed, "idiosyncratic", listing.ticker), p.dof, n)
        sigma = garch_sigma(
            z,
            np.array([p.idio_vol**2 for p in params]),
            np.array([p.garch_alpha for p in params]),
            np.array([p.garch_beta for p in params]),
        )
        for j, (listing, p) in enumerate(zip(block, params, strict=True)):
            yield self._path(listing, p, sigma[:, j] * z[:, j], sigma[:, j], n)

    def _path(self, listing: Listing, p: Params, eps: np.ndarray, idio: np.ndarray, n: int) -> Path:
        f, k = self.factors, SECTORS.index(listing.company.sector)
        ret = p.drift + p.beta_market * f.market[:n] + p.beta_sector * f.sectors[k, :n] + eps
        ret = np.clip(ret, -MAX_MOVE, MAX_MOVE)
        sigma = np.sqrt(
            (p.beta_market * f.market_sigma[:n]) ** 2
            + (p.beta_sector * f.sector_sigma[k, :n]) ** 2
            + idio**2
        )
        ex_div = _dividend_days(self.sessions.days[:n], p)
        drop = np.zeros(n)
        drop[ex_div] = np.log1p(-p.quarterly_yield)  # the price falls by the dividend
        noise = _rng(self.config.seed, "bars", listing.ticker).standard_normal((n, 4))
        overnight = 0.3 * ret + 0.25 * sigma * noise[:, 0] + drop
        log_close = np.log(p.price0) + np.cumsum(ret + drop)
        close = np.exp(log_close)
        open_ = np.exp(log_close - ret - drop + overnight)  # previous close, moved overnight
        splits = _splits(close, p)
        factor = np.ones(n)
        for index, ratio in splits:
            factor[index:] *= ratio
        close, open_ = close / factor, open_ / factor
        spread = 0.5 * sigma
        high = np.maximum(open_, close) * np.exp(np.abs(noise[:, 1]) * spread)
        low = np.minimum(open_, close) * np.exp(-np.abs(noise[:, 2]) * spread)
        # Rounded open/close are fixed points of rounding, so these bounds survive it.
        o, c = _round4(open_), _round4(close)
        h = np.maximum(_round4(high), np.maximum(o, c))
        lo = np.minimum(_round4(low), np.minimum(o, c))
        # Shares traded: a value traded that grows with the company (sqrt of its price path),
        # busier on big moves, quieter on half days; a split multiplies it through the price.
        activity = (1 + 0.8 * np.abs(ret) / sigma) * np.where(self.half_day[:n], 0.55, 1.0)
        value = p.dollar_volume * np.sqrt(close * factor / p.price0) * activity
        volume = np.rint(value * np.exp(0.35 * noise[:, 3]) / close)
        # Cash per share of the ex-date (the previous close in its shares, should a split fall
        # on the same day).
        previous = c[ex_div - 1] * factor[ex_div - 1] / factor[ex_div]
        dividends = [
            (int(t), max(round(p.quarterly_yield * float(x), 2), 0.01))
            for t, x in zip(ex_div, previous, strict=True)
        ]
        return Path(listing, o, h, lo, c, volume.astype(np.int64), ret, sigma, splits, dividends)


# --- records ---------------------------------------------------------------------------------

_fmt4 = "{:.4f}".format


def bar_records(path: Path, lo: int, hi: int, iso: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Bars of window indices [lo, hi] as prices_daily records (line numbers added later)."""
    s = slice(lo, hi + 1)
    columns = zip(
        iso[s],
        map(_fmt4, path.open[s].tolist()),
        map(_fmt4, path.high[s].tolist()),
        map(_fmt4, path.low[s].tolist()),
        map(_fmt4, path.close[s].tolist()),
        map(str, path.volume[s].tolist()),
        strict=True,
    )
    ticker = path.listing.ticker
    for day, o, h, low, c, v in columns:
        yield {
            "ticker": ticker,
            "trade_date": day,
            "open": o,
            "high": h,
            "low": low,
            "close": c,
            "volume": v,
        }


def _numbered(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for line, record in enumerate(records, start=1):
        record["line_number"] = line
        yield record


def _ratio(value: float) -> str:
    return f"{value:g}"


def _instrument_records(market: Market) -> Iterator[dict[str, Any]]:
    for listing in market.listings:
        c = listing.company
        yield {
            "ticker": c.ticker,
            "name": c.name,
            "sector": c.sector,
            "industry": c.industry,
            "exchange": c.exchange,
            "listed_date": listing.listed.isoformat(),
            "delisted_date": listing.delisted.isoformat() if listing.delisted else None,
        }


def _action_records(market: Market) -> Iterator[dict[str, Any]]:
    iso = market.sessions.iso
    for block in market.blocks():
        for path in market.paths(block, market.sessions.last):
            listing = path.listing
            # Not on an IPO's first bar: there is no earlier bar for the action to explain.
            first = listing.lo + 1 if listing.ipo else listing.lo
            actions = [(t, "split", _ratio(r), None) for t, r in path.splits]
            actions += [(t, "dividend", None, f"{a:.2f}") for t, a in path.dividends]
            for t, kind, ratio, amount in sorted(actions, key=lambda a: (a[0], a[1])):
                if first <= t <= listing.hi:
                    yield {
                        "ticker": listing.ticker,
                        "ex_date": iso[t],
                        "action_type": kind,
                        "split_ratio": ratio,
                        "dividend_amount": amount,
                    }


def _price_records(market: Market, a: int, b: int) -> Iterator[dict[str, Any]]:
    """Bars of all tickers for window indices [a, b], ticker by ticker."""
    iso = market.sessions.iso
    for block in market.blocks():
        active = [listing for listing in block if listing.lo <= b and listing.hi >= a]
        for path in market.paths(active, b) if active else ():
            listing = path.listing
            yield from bar_records(path, max(a, listing.lo), min(b, listing.hi), iso)


def _news_inputs(market: Market, block: Sequence[Listing]) -> list[news.TickerSessions]:
    s = market.sessions
    out = []
    for path in market.paths(block, s.last):
        lo, hi = path.listing.lo, path.listing.hi
        if lo > hi:
            continue
        c = path.listing.company
        out.append(
            news.TickerSessions(
                ticker=c.ticker,
                name=c.name,
                sector=c.sector,
                coverage=news.COVERAGE[c.index],
                first=lo,
                close=path.close[lo : hi + 1],
                ret=path.ret[lo : hi + 1],
                z=path.ret[lo : hi + 1] / path.sigma[lo : hi + 1],
                volume=path.volume[lo : hi + 1],
            )
        )
    return out


def _articles(market: Market) -> Iterator[news.Article]:
    s = market.sessions
    clock = news.SessionClock(iso=s.iso, opens=s.opens, closes=s.closes)
    sector_z = market.factors.sectors / market.factors.sector_sigma
    for block in market.blocks():
        inputs = _news_inputs(market, block)
        yield from news.block_articles(market.config.seed, inputs, clock, sector_z)


def _article_records(market: Market) -> Iterator[dict[str, Any]]:
    return (article.record() for article in _articles(market))


def _sentiment_records(market: Market) -> Iterator[dict[str, Any]]:
    for article in _articles(market):
        yield from news.sentiment_records(article)


# --- faults ----------------------------------------------------------------------------------


class _Faults:
    """Builds one small prices delivery per fault, after (and independent of) the clean ones.

    Value defects re-deliver a clean bar of the last session with the defect, each on another
    ticker, so whatever rejects the row leaves the published value as it was.
    """

    def __init__(self, market: Market, last_prices: tuple[int, int]) -> None:
        self.market, self.last_prices = market, last_prices
        self.s = market.sessions

    def build(self, name: str) -> Delivery:
        dataset = FAULT_DATASETS.get(name, "prices_daily")
        delivery = Delivery(dataset, SOURCE, [], [], f"fault {name}: {FAULTS[name]}")
        records = getattr(self, name)(delivery)
        # Malformed lines take line numbers too: that delivery numbers its own records.
        delivery.records = records if name == "malformed_lines" else _numbered(records)
        return delivery

    def _active(self, index: int) -> list[Listing]:
        return [x for x in self.market.listings if x.active(index)]

    def _bar(self, listing: Listing, index: int) -> dict[str, Any]:
        path = next(self.market.paths([listing], index))
        return next(bar_records(path, index, index, self.s.iso))

    def _last_bar(self, pick: int) -> dict[str, Any]:
        active = self._active(self.s.last)
        return self._bar(active[pick % len(active)], self.s.last)

    def duplicate_batch(self, _: Delivery) -> Iterator[dict[str, Any]]:
        return _price_records(self.market, *self.last_prices)

    def restated_bar(self, _: Delivery) -> list[dict[str, Any]]:
        mid = (self.s.first + self.s.last) // 2
        bar = self._bar(self._active(mid)[0], mid)
        close = round(float(bar["close"]) * 1.02, 4)
        bar.update(close=_fmt4(close), high=_fmt4(max(float(bar["high"]), close)))
        return [bar]

    def late_bar(self, _: Delivery) -> list[dict[str, Any]]:
        listing = next(x for x in self._active(self.s.first) if not x.ipo)
        return [self._bar(listing, self.s.first - 1)]

    def malformed_lines(self, delivery: Delivery) -> Iterator[dict[str, Any]]:
        """Bars of the last sessions (>= 100 readable lines, so the batch stays under the
        reject limit) with 2 unreadable lines between them, reported as rejections."""
        a = max(self.s.first, self.s.last - 99 // max(1, len(self._active(self.s.last))))
        line, bar = 0, {}
        for n, bar in enumerate(_price_records(self.market, a, self.s.last)):
            if n in _BAD_LINES:
                line += 1
                delivery.rejections.append(_BAD_LINES[n](line, bar))
            line += 1
            yield {**bar, "line_number": line}
        for n in sorted(_BAD_LINES)[len(delivery.rejections) :]:  # a short range: at the end
            line += 1
            delivery.rejections.append(_BAD_LINES[n](line, bar))

    def nan_price(self, _: Delivery) -> list[dict[str, Any]]:
        return [{**self._last_bar(1), "close": "NaN"}]

    def inf_price(self, _: Delivery) -> list[dict[str, Any]]:
        return [{**self._last_bar(2), "high": "inf"}]

    def negative_price(self, _: Delivery) -> list[dict[str, Any]]:
        bar = self._last_bar(3)
        return [{**bar, "low": "-" + bar["low"]}]

    def negative_volume(self, _: Delivery) -> list[dict[str, Any]]:
        bar = self._last_bar(4)
        return [{**bar, "volume": str(-max(int(bar["volume"]), 1))}]

    def ohlc_break(self, _: Delivery) -> list[dict[str, Any]]:
        bar = self._last_bar(5)
        return [{**bar, "high": _fmt4(round(float(bar["low"]) * 0.99, 4))}]

    def split_without_action(self, _: Delivery) -> Iterator[dict[str, Any]]:
        """The session after `end` for every ticker still listed; one of them halved."""
        nxt = self.s.last + 1
        active = [x for x in self._active(self.s.last) if x.delisted is None]
        victim = active[min(6, len(active) - 1)].ticker
        for block in self.market.blocks(active):
            for path in self.market.paths(block, nxt):
                victimised = path.listing.ticker == victim
                if any(t == nxt for t, _ in path.splits):
                    if not victimised:
                        continue  # a real split that day would need its own record
                    victimised = False  # it is already a split without its record
                bar = next(bar_records(path, nxt, nxt, self.s.iso))
                if victimised:
                    for key in ("open", "high", "low", "close"):
                        bar[key] = _fmt4(max(round(float(bar[key]) / 2, 4), 0.0001))
                    bar["volume"] = str(int(bar["volume"]) * 2)
                yield bar

    def action_without_jump(self, _: Delivery) -> list[dict[str, Any]]:
        active = self._active(self.s.last)
        pick = self.market.config.seed % len(active)  # another seed, another ticker
        for listing in active[pick:] + active[:pick]:
            path = next(self.market.paths([listing], self.s.last))
            if not any(t == self.s.last for t, _ in path.splits):  # not a real split day
                break
        record = {
            "ticker": listing.ticker,
            "ex_date": self.s.iso[self.s.last],
            "action_type": "split",
            "split_ratio": "2",
            "dividend_amount": None,
        }
        return [record]

    def missing_column(self, _: Delivery) -> list[dict[str, Any]]:
        bars = [self._bar(listing, self.s.last) for listing in self._active(self.s.last)[:3]]
        for bar in bars:
            del bar["volume"]
        return bars


def _short_line(line: int, bar: dict[str, Any]) -> Rejection:
    raw = f"{bar['ticker']},{bar['trade_date']},{bar['open']},{bar['high']}"
    return Rejection(line, "csv_field_count", "4 fields, expected 8", raw)


def _badly_encoded_line(line: int, bar: dict[str, Any]) -> Rejection:
    data = f"{bar['ticker']},{bar['trade_date']},".encode() + b"\xff\xfe,1.0,0.5,1.5,,10"
    raw = data.decode("utf-8", errors="backslashreplace")  # bad bytes escaped
    return Rejection(line, "encoding", "the line is not valid UTF-8", raw)


# Where the unreadable lines of `malformed_lines` sit, by the readable lines before them.
_BAD_LINES = {1: _short_line, 7: _badly_encoded_line}


# --- the public entry point ------------------------------------------------------------------


def simulate(config: SimulationConfig) -> Iterator[Delivery]:
    """Deliveries in order: instruments, corporate actions, prices (one or more), news
    articles, news sentiment, then one small prices delivery per requested fault.

    Building the calendar, factors and listings happens here (so a bad range fails at once);
    records are generated only while a delivery's `records` is iterated.
    """
    return _deliveries(Market(config))


def _price_ranges(market: Market) -> list[tuple[int, int]]:
    s, step = market.sessions, market.config.batch_sessions
    if step <= 0:
        return [(s.first, s.last)]
    return [(a, min(a + step - 1, s.last)) for a in range(s.first, s.last + 1, step)]


def _clean(dataset: str, records: Iterable[dict[str, Any]], description: str) -> Iterator[Delivery]:
    """A clean delivery, or none when the range gives it no record (a short range may have no
    dividend or news): the bronze writer refuses an empty batch. Peeking at the first record
    costs one block of tickers at most."""
    numbered = _numbered(records)
    first = next(numbered, None)
    if first is not None:
        yield Delivery(dataset, SOURCE, itertools.chain([first], numbered), [], description)


def _deliveries(market: Market) -> Iterator[Delivery]:
    s, n = market.sessions, len(market.listings)
    span = f"{s.iso[s.first]}..{s.iso[s.last]}"
    reference = f"instruments, {n} tickers (reference data: {reference_source()})"
    yield from _clean("instruments", _instrument_records(market), reference)
    yield from _clean(
        "corporate_actions", _action_records(market), f"corporate actions {span}, {n} tickers"
    )
    ranges = _price_ranges(market)
    for a, b in ranges:
        description = f"prices {s.iso[a]}..{s.iso[b]}, {n} tickers"
        yield from _clean("prices_daily", _price_records(market, a, b), description)
    yield from _clean("news_articles", _article_records(market), f"news articles {span}")
    yield from _clean(
        "news_sentiment",
        _sentiment_records(market),
        f"news sentiment {span} (vader {news.vader_version()})",
    )
    faults = _Faults(market, ranges[-1])
    for name in FAULTS:  # a fixed order, whatever order they were asked in
        if name in market.config.faults:
            yield faults.build(name)
