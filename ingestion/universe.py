"""The simulator's universe: real S&P 1500 companies with GICS sectors, then synthetic ones.

Reference data comes from the `pitindex` package, which ships the current S&P 500, 400 and 600
rosters (ticker, name, GICS sector and sub-industry) inside its wheel. The CSVs are read from the
installed distribution, not through `pitindex.get_constituents`, because that prefers a user
cache (~/.cache/pitindex) that `pitindex.update()` may have refreshed: the universe must depend
on the pinned package version only. Beyond the ~1,500 real companies, tickers `SYN00001`, ...
get a sector and industry drawn from the real roster, so sector weights stay realistic.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass
from importlib.metadata import distribution, version

REFERENCE_PACKAGE = "pitindex"
INDICES = ("sp500", "sp400", "sp600")  # large, mid, small caps: the order tickers are taken in

SECTORS = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)

# pitindex ships no listing venue. These S&P members are Nasdaq-listed; every other real
# company is taken as NYSE-listed (both follow the XNYS session calendar).
_NASDAQ = """
    AAPL ABNB ADBE ADI ADP ADSK AEP AKAM ALGN AMAT AMD AMGN AMZN APP AVGO AXON BIIB BKNG
    CDNS CEG CHRW CHTR CINF CME CMCSA COIN COST CPRT CRWD CSCO CSGP CSX CTAS CTSH DASH DDOG
    DLTR DXCM EA EBAY ENPH EQIX ERIE EXC EXPE FANG FAST FFIV FITB FOX FOXA FTNT GEHC GEN
    GILD GOOG GOOGL HBAN HOLX HON HOOD HSIC IDXX ILMN INCY INTC INTU ISRG JBHT JKHY KDP KHC
    KLAC LIN LKQ LNT LRCX LULU MAR MCHP MDLZ META MNST MPWR MRNA MSFT MU NDAQ NFLX NTAP NTRS
    NVDA NWS NWSA NXPI ODFL ON ORLY PANW PAYX PCAR PEP PLTR PODD POOL PTC PYPL QCOM REG REGN
    ROST SBAC SBUX SMCI SNPS STX SWKS TER TMUS TRMB TROW TSCO TSLA TTD TTWO TXN UAL ULTA
    VRSK VRTX VTRS WBD WDAY WDC XEL ZBRA
"""
NASDAQ_LISTED = frozenset(_NASDAQ.split())

_SYNTHETIC_PREFIX = "SYN"
_WORDS = """Apex Birch Cobalt Delta Ember Falcon Granite Harbor Iron Juniper Keystone Lumen
    Meridian Northwind Orchid Pinnacle Quarry Redwood Summit Tidal Union Vertex Willow Zenith"""
_NAME_WORDS = tuple(_WORDS.split())
_NAME_SUFFIXES = ("Holdings", "Group", "Corp.", "Inc.", "Industries", "Partners", "Systems")


@dataclass(frozen=True)
class Company:
    ticker: str
    name: str
    sector: str
    industry: str
    exchange: str  # MIC: XNYS or XNAS
    index: str = "synthetic"  # sp500, sp400, sp600 or synthetic


def reference_version() -> str:
    return version(REFERENCE_PACKAGE)


def reference_source() -> str:
    """`pitindex-<version>`: what the universe's names and sectors come from."""
    return f"{REFERENCE_PACKAGE}-{reference_version()}"


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that, unlike hash(), is the same in every process."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _read_roster(index: str) -> list[dict[str, str]]:
    path = distribution(REFERENCE_PACKAGE).locate_file(f"pitindex/data/{index}_current.csv")
    text = path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    return list(csv.DictReader(io.StringIO(text)))


def _sector_round_robin(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows ordered so that any prefix spreads over all sectors, oldest filers (lowest CIK)
    first: a small universe is then diverse and made of well-known companies."""
    by_sector: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["cik"] or "9" * 10, r["ticker"])):
        by_sector[row["gics_sector"]].append(row)
    queues = [by_sector[s] for s in sorted(by_sector)]
    longest = max((len(q) for q in queues), default=0)
    return [q[i] for i in range(longest) for q in queues if i < len(q)]


@functools.cache
def real_companies() -> tuple[Company, ...]:
    """The real companies in the order a universe takes them (S&P 500, then 400, then 600)."""
    seen: set[str] = set()
    companies: list[Company] = []
    for index in INDICES:
        for row in _sector_round_robin(_read_roster(index)):
            ticker = row["ticker"].strip()
            if ticker in seen or row["gics_sector"] not in SECTORS:
                continue
            seen.add(ticker)
            exchange = "XNAS" if ticker in NASDAQ_LISTED else "XNYS"
            companies.append(
                Company(
                    ticker,
                    row["name"],
                    row["gics_sector"],
                    row["gics_sub_industry"],
                    exchange,
                    index,
                )
            )
    return tuple(companies)


def synthetic_company(number: int) -> Company:
    """Company `SYN<number>`: sector, industry, name and venue drawn from the ticker alone."""
    ticker = f"{_SYNTHETIC_PREFIX}{number:05d}"
    real = real_companies()
    model = real[stable_hash("industry", ticker) % len(real)]  # weights sectors like the index
    h = stable_hash("name", ticker)
    word = _NAME_WORDS[h % len(_NAME_WORDS)]
    suffix = _NAME_SUFFIXES[(h >> 16) % len(_NAME_SUFFIXES)]
    exchange = "XNAS" if (h >> 32) % 100 < 35 else "XNYS"
    name = f"{word} {model.industry.split(',')[0].split(' & ')[0]} {suffix}"
    return Company(ticker, name, model.sector, model.industry, exchange)


def universe(size: int) -> list[Company]:
    """`size` companies: real ones first, then synthetic; sorted by ticker."""
    if size < 1:
        raise ValueError(f"the universe needs at least one ticker, not {size}")
    real = real_companies()
    chosen = list(real[:size])
    chosen += [synthetic_company(n) for n in range(1, size - len(chosen) + 1)]
    return sorted(chosen, key=lambda c: c.ticker)
