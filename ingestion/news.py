"""Simulated market news, and its sentiment scored by VADER.

Articles are written about a ticker's session: the more unusual the move, the likelier an
article, and its tone mostly follows the move (sometimes an opinion piece goes its own way).
Some are sector round-ups mentioning a few tickers, each with a sentence about its own move.
They are published around the clock: during the session, after the close, overnight and over
weekends, stamped in the publisher's own zone (UTC `Z` or a local offset).

Sentiment is one record per (article, ticker): VADER's compound score of the headline plus the
sentences about that ticker, so two tickers of one round-up can score differently.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from marketpulse.ingestion.universe import SECTORS, stable_hash

MODEL_NAME = "vader"
MODEL_PACKAGE = "vaderSentiment"
NEUTRAL_BAND = 0.05  # VADER's usual thresholds on the compound score

PUBLISHERS = (  # (name, url slug, time zone its timestamps are written in)
    ("MarketWire", "marketwire", "UTC"),
    ("Street Ledger", "street-ledger", "America/New_York"),
    ("City Desk London", "city-desk", "Europe/London"),
    ("Pacific Business Wire", "pacific-wire", "America/Los_Angeles"),
    ("Asia Markets Today", "asia-markets", "Asia/Tokyo"),
)

# Headlines by tone, -2 (very negative) .. 2, worded with VADER's lexicon (it lacks market
# verbs such as "surge" or "plunge"). MOVE headlines state the move; OPINION ones do not, so a
# tone against the move never contradicts the numbers.
MOVE = {
    2: (
        "{name} shares jump {pct} on strong results and an upbeat outlook",
        "{name} ({ticker}) climbs {pct} as impressive growth wins over investors",
        "{ticker} gains {pct}; analysts praise an excellent quarter",
    ),
    1: (
        "{name} edges up {pct} as investors welcome solid demand",
        "{name} ({ticker}) rises {pct} on hopes of improving margins",
    ),
    0: (
        "{name} ({ticker}) ends little changed at ${close}",
        "{ticker} steady at ${close} as investors await the next report",
    ),
    -1: (
        "{name} slips {pct} as worries about weak demand grow",
        "{name} ({ticker}) falls {pct} as cost pressure hurts margins",
    ),
    -2: (
        "{name} shares sink {pct} after disappointing results",
        "{name} ({ticker}) tumbles {pct} on a weak outlook and lawsuit fears",
        "{ticker} drops {pct} as investors fear worse losses",
    ),
}
OPINION = {
    1: (
        "Analysts upbeat on {name} ({ticker}), citing strong cash flow",
        "{name} wins praise for an impressive product pipeline",
    ),
    0: (
        "{name} ({ticker}) schedules its annual investor meeting",
        "What to watch at {name} this quarter",
    ),
    -1: (
        "{name} ({ticker}) faces a lawsuit over a supplier dispute",
        "Short sellers bet against {name}, citing weak sales",
    ),
}
TONE = {
    2: "Analysts praised the strong quarter and raised their targets.",
    1: "Investors were encouraged by solid demand and improving margins.",
    0: "Trading was quiet ahead of the next earnings report.",
    -1: "Investors worried about weak demand and rising costs.",
    -2: "Analysts warned of weak demand, and some fear further losses.",
}
ROUNDUP = {
    1: "{sector} stocks gain as {first} and {second} lead a strong session",
    0: "{sector} stocks mixed; {first} and {second} in focus",
    -1: "{sector} stocks slide as {first} and {second} drag on a weak session",
}
ROUNDUP_TAIL = {
    2: " on strong buying",
    1: " as investors stayed hopeful",
    0: "",
    -1: " amid worries over demand",
    -2: " as fears of weak results grew",
}


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
COVERAGE = {"sp500": 1.0, "sp400": 0.6, "sp600": 0.4, "synthetic": 0.25}


@dataclass(frozen=True)
class TickerSessions:
    """A ticker's listed sessions inside the range: element i is window session first + i."""

    ticker: str
    name: str
    sector: str
    coverage: float  # how much the press follows it: 1 for the S&P 500, less for smaller caps
    first: int
    close: np.ndarray
    ret: np.ndarray  # log return of the session
    z: np.ndarray  # the return in units of its conditional volatility
    volume: np.ndarray

    def has(self, window_index: int) -> bool:
        return 0 <= window_index - self.first < len(self.close)


@dataclass(frozen=True)
class SessionClock:
    iso: Sequence[str]
    opens: np.ndarray  # UTC epoch seconds, by window index
    closes: np.ndarray


@dataclass(frozen=True)
class Article:
    article_id: str
    published_at: str
    headline: str
    summary: str
    publisher: str
    url: str
    tickers: tuple[str, ...]
    about: tuple[str, ...]  # per ticker, the text its sentiment is scored on

    def record(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "published_at": self.published_at,
            "headline": self.headline,
            "summary": self.summary,
            "publisher": self.publisher,
            "url": self.url,
            "tickers": list(self.tickers),
        }


def bucket(z: float) -> int:
    """The tone a move of z standard deviations calls for, -2..2."""
    return 2 if z > 1.5 else 1 if z > 0.5 else 0 if z >= -0.5 else -1 if z >= -1.5 else -2


def _pct(ret: float) -> str:
    return f"{abs(np.expm1(ret)) * 100:.1f}%"


def _published(rng: np.random.Generator, clock: SessionClock, w: int) -> int:
    """Seconds since the epoch: during the session, after the close, overnight or days later
    (which over a weekend means Saturday or Sunday)."""
    u, x = rng.random(2)
    open_, close = int(clock.opens[w]), int(clock.closes[w])
    if u < 0.25:
        return open_ + int(x * (close - open_))
    if u < 0.70:
        return close + 300 + int(x * 6 * 3600)
    if u < 0.88:
        return close + 6 * 3600 + int(x * 11 * 3600)
    return close + 17 * 3600 + int(x * 48 * 3600)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _timestamp(seconds: int, zone: str) -> tuple[str, str]:
    """(ISO-8601 with zone, local yyyy/mm/dd for the URL)."""
    if zone == "UTC":
        at = datetime.fromtimestamp(seconds, UTC)
        return at.strftime("%Y-%m-%dT%H:%M:%SZ"), at.strftime("%Y/%m/%d")
    at = datetime.fromtimestamp(seconds, _zone(zone))
    return at.isoformat(), at.strftime("%Y/%m/%d")


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:8])


class _Writer:
    """Writes articles; each ticker draws from its own (seed, ticker) stream."""

    def __init__(self, seed: int, clock: SessionClock, sector_z: np.ndarray) -> None:
        self.seed, self.clock, self.sector_z = seed, clock, sector_z

    def articles(
        self, series: TickerSessions, peers: Sequence[TickerSessions]
    ) -> Iterator[Article]:
        rng = np.random.default_rng([self.seed, stable_hash("news", series.ticker)])
        big_move = np.minimum(np.abs(series.z) / 3.0, 1.0)  # unusual moves make news
        chance = series.coverage * (0.05 + 0.2 * big_move)
        for i in np.flatnonzero(rng.random(len(series.z)) < chance).tolist():
            w = series.first + i
            published = _published(rng, self.clock, w)
            others = [p for p in peers if p.has(w)]
            if others and rng.random() < 0.2:
                picked = rng.choice(len(others), size=min(len(others), 2), replace=False)
                group = [series, *(others[k] for k in sorted(picked))]
                yield self._roundup(rng, group, w, published)
            else:
                yield self._company(rng, series, i, published)

    def _company(
        self, rng: np.random.Generator, s: TickerSessions, i: int, published: int
    ) -> Article:
        move = bucket(float(s.z[i]))
        if rng.random() < 0.78:  # the tone follows the move
            tone, headlines = move, MOVE[move]
        else:
            tone = int(rng.integers(-1, 2))
            headlines = OPINION[tone]
        fields = {
            "name": s.name,
            "ticker": s.ticker,
            "pct": _pct(float(s.ret[i])),
            "close": f"{s.close[i]:.2f}",
        }
        headline = headlines[int(rng.integers(len(headlines)))].format(**fields)
        w = s.first + i
        direction = "up" if s.ret[i] >= 0 else "down"
        day = WEEKDAYS[date.fromisoformat(self.clock.iso[w]).weekday()]
        move_text = f"{direction} {fields['pct']} at ${fields['close']}"
        if published < self.clock.closes[w]:  # written during the session
            facts = f"{s.name} ({s.ticker}) was {move_text} in {day} trading."
        else:  # in words VADER scores neutral ("shares" is positive to it)
            facts = f"{s.name} ({s.ticker}) ended {day} {move_text}; volume was {s.volume[i]:,}."
        summary = f"{facts} {TONE[tone]}"
        return self._article(rng, w, published, headline, summary, [s], [summary])

    def _roundup(
        self, rng: np.random.Generator, group: list[TickerSessions], w: int, published: int
    ) -> Article:
        sector = group[0].sector
        tone = max(-1, min(1, bucket(float(self.sector_z[SECTORS.index(sector), w]))))
        headline = ROUNDUP[tone].format(sector=sector, first=group[0].name, second=group[1].name)
        sentences = []
        for s in group:
            i = w - s.first
            move = bucket(float(s.z[i]))
            verb = "rose" if s.ret[i] >= 0 else "fell"
            what = "was little changed at" if move == 0 else f"{verb} {_pct(float(s.ret[i]))} to"
            sentences.append(f"{s.name} ({s.ticker}) {what} ${s.close[i]:.2f}{ROUNDUP_TAIL[move]}.")
        return self._article(rng, w, published, headline, " ".join(sentences), group, sentences)

    def _article(
        self,
        rng: np.random.Generator,
        w: int,
        published: int,
        headline: str,
        summary: str,
        group: Sequence[TickerSessions],
        texts: Sequence[str],
    ) -> Article:
        name, slug, zone = PUBLISHERS[int(rng.integers(len(PUBLISHERS)))]
        stamp, local_day = _timestamp(published, zone)
        key = stable_hash(self.seed, "article", group[0].ticker, self.clock.iso[w])
        article_id = f"{slug}-{self.clock.iso[w].replace('-', '')}-{key:016x}"
        return Article(
            article_id=article_id,
            published_at=stamp,
            headline=headline,
            summary=summary,
            publisher=name,
            url=f"https://news.example.com/{slug}/{local_day}/{_slug(headline)}-{key:016x}",
            tickers=tuple(s.ticker for s in group),
            about=tuple(f"{headline} {text}" for text in texts),
        )


def block_articles(
    seed: int, block: Sequence[TickerSessions], clock: SessionClock, sector_z: np.ndarray
) -> Iterator[Article]:
    """Articles about a block of tickers; round-ups pick peers of the same sector in the block."""
    by_sector: dict[str, list[TickerSessions]] = defaultdict(list)
    for series in block:
        by_sector[series.sector].append(series)
    writer = _Writer(seed, clock, sector_z)
    for series in block:
        peers = [p for p in by_sector[series.sector] if p is not series]
        yield from writer.articles(series, peers)


# --- sentiment -------------------------------------------------------------------------------


@functools.cache
def vader_version() -> str:
    return version(MODEL_PACKAGE)


@functools.cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # reads the lexicon shipped in the package


def label(compound: float) -> str:
    if compound >= NEUTRAL_BAND:
        return "positive"
    if compound <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def score(text: str) -> float:
    return float(_analyzer().polarity_scores(text)["compound"]) + 0.0  # no "-0.0"


def sentiment_records(article: Article) -> Iterator[dict[str, Any]]:
    for ticker, text in zip(article.tickers, article.about, strict=True):
        compound = score(text)
        yield {
            "article_id": article.article_id,
            "ticker": ticker,
            "model_name": MODEL_NAME,
            "model_version": vader_version(),
            "score": f"{compound:.4f}",
            "label": label(compound),
        }
