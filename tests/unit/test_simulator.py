"""The market simulator: reproducible, realistic enough to exercise every gate, and streamed."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from marketpulse.ingestion import simulator
from marketpulse.ingestion.bronze import COMMITTED, BronzeWriter
from marketpulse.ingestion.contracts import CONTRACTS
from marketpulse.ingestion.simulator import FAULT_DATASETS, FAULTS, SimulationConfig, simulate
from marketpulse.ingestion.universe import SECTORS, universe

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
CLEAN = ("instruments", "corporate_actions", "prices_daily", "news_articles", "news_sentiment")
Records = list[dict[str, Any]]


def materialise(config: SimulationConfig) -> list[tuple[simulator.Delivery, Records]]:
    return [(d, list(d.records)) for d in simulate(config)]


@pytest.fixture(scope="module")
def run() -> list[tuple[simulator.Delivery, Records]]:
    """The default configuration (50 tickers, 2024) with every fault."""
    return materialise(SimulationConfig(faults=tuple(FAULTS)))


@pytest.fixture(scope="module")
def feeds(run: list[tuple[simulator.Delivery, Records]]) -> dict[str, Records]:
    """The clean deliveries by dataset."""
    return {d.dataset: records for d, records in run[: len(CLEAN)]}


@pytest.fixture(scope="module")
def faults(run: list[tuple[simulator.Delivery, Records]]) -> dict[str, simulator.Delivery]:
    out = {}
    for delivery, records in run[len(CLEAN) :]:
        name = delivery.description.split(":")[0].removeprefix("fault ")
        delivery.records = records  # materialised once; rejections are filled by now
        out[name] = delivery
    return out


def bars_by_ticker(prices: Records) -> dict[str, Records]:
    out: dict[str, Records] = defaultdict(list)
    for bar in prices:
        out[bar["ticker"]].append(bar)
    return out


def splits(actions: Records) -> dict[tuple[str, str], float]:
    return {
        (a["ticker"], a["ex_date"]): float(a["split_ratio"])
        for a in actions
        if a["action_type"] == "split"
    }


def _values(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(v for k, v in record.items() if k != "line_number")


def _mean_volume(bars: Records) -> float:
    return sum(int(b["volume"]) for b in bars) / len(bars)


def nyse_sessions(start: date, end: date) -> list[str]:
    import exchange_calendars as xcals

    calendar = xcals.get_calendar("XNYS", start=start.isoformat(), end=end.isoformat())
    return [str(s.date()) for s in calendar.sessions_in_range(start.isoformat(), end.isoformat())]


# --- configuration and determinism -----------------------------------------------------------


def test_bad_configurations_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match=r"unknown fault.*'typo'"):
        SimulationConfig(faults=("typo",))
    with pytest.raises(ValueError, match="before start"):
        SimulationConfig(start=date(2024, 2, 1), end=date(2024, 1, 1))
    with pytest.raises(ValueError, match="no NYSE session"):
        simulate(SimulationConfig(start=date(2024, 7, 4), end=date(2024, 7, 4)))


def test_deliveries_come_in_order_with_faults_last(run: list) -> None:
    datasets = [d.dataset for d, _ in run]
    assert tuple(datasets[: len(CLEAN)]) == CLEAN
    assert datasets[len(CLEAN) :] == [FAULT_DATASETS.get(name, "prices_daily") for name in FAULTS]
    assert all(d.source == "simulator" and d.description for d, _ in run)
    for _, records in run:
        numbers = [r["line_number"] for r in records]
        assert numbers == sorted(set(numbers)) and numbers[0] >= 1


def _write_all(config: SimulationConfig, root: Path) -> list[str]:
    writer = BronzeWriter(root)
    manifests = []
    for d in simulate(config):
        result = writer.write_records(
            CONTRACTS[d.dataset], d.source, d.records, rejections=d.rejections, now=NOW
        )
        m = result.manifest
        manifest_file = root / d.dataset / m.partition_path / "_manifest.json"
        manifests.append(hashlib.sha256(manifest_file.read_bytes()).hexdigest())
    return manifests


def test_the_same_config_lands_byte_identical_batches(tmp_path: Path) -> None:
    config = SimulationConfig(
        tickers=12, start=date(2024, 1, 2), end=date(2024, 4, 30), faults=tuple(FAULTS)
    )
    first = _write_all(config, tmp_path / "a")
    assert first == _write_all(config, tmp_path / "b")
    other_seed = _write_all(replace(config, seed=8), tmp_path / "c")
    assert set(first).isdisjoint(other_seed)


def test_a_tiny_range_lands_without_empty_batches(tmp_path: Path) -> None:
    config = SimulationConfig(
        tickers=2, start=date(2024, 1, 2), end=date(2024, 1, 3), faults=tuple(FAULTS)
    )
    deliveries = list(simulate(config))
    assert {"instruments", "prices_daily"} <= {d.dataset for d in deliveries}
    writer = BronzeWriter(tmp_path)
    for d in deliveries:  # the writer refuses an empty batch
        writer.write_records(CONTRACTS[d.dataset], d.source, d.records, rejections=d.rejections)
    malformed = next(d for d in deliveries if "malformed_lines" in d.description)
    assert len(malformed.rejections) == 2


def test_overlapping_windows_agree_on_their_common_bars() -> None:
    def bars(start: date, end: date) -> dict[tuple[str, str], dict[str, Any]]:
        prices = list(simulate(SimulationConfig(tickers=8, start=start, end=end)))[2]
        return {
            (r["ticker"], r["trade_date"]): {k: v for k, v in r.items() if k != "line_number"}
            for r in prices.records
        }

    early, late = (
        bars(date(2024, 1, 2), date(2024, 6, 28)),
        bars(date(2024, 4, 1), date(2024, 9, 30)),
    )
    common = early.keys() & late.keys()
    assert len(common) > 8 * 30  # 62 common sessions, less listings and delistings
    assert all(early[key] == late[key] for key in common)


def test_batch_sessions_cut_the_same_prices_into_several_deliveries() -> None:
    config = SimulationConfig(tickers=6, start=date(2024, 1, 2), end=date(2024, 6, 28))

    def prices(c: SimulationConfig) -> list[set[tuple[str, ...]]]:
        deliveries = [d for d in simulate(c) if d.dataset == "prices_daily"]
        return [{_values(r) for r in d.records} for d in deliveries]

    (whole,) = prices(config)
    parts = prices(replace(config, batch_sessions=40))
    assert len(parts) == math.ceil(len(nyse_sessions(config.start, config.end)) / 40)
    assert set().union(*parts) == whole and sum(map(len, parts)) == len(whole)


# --- prices ----------------------------------------------------------------------------------


def test_bars_are_internally_consistent(feeds: dict[str, Records]) -> None:
    for bar in feeds["prices_daily"]:
        o, h, lo, c = (float(bar[k]) for k in ("open", "high", "low", "close"))
        assert 0 < lo <= min(o, c) <= max(o, c) <= h, bar
        assert all(len(bar[k].split(".")[1]) == 4 for k in ("open", "high", "low", "close"))
        assert bar["volume"].isdigit(), bar


def test_bars_fall_on_nyse_sessions_only_half_days_included(feeds: dict[str, Records]) -> None:
    sessions = nyse_sessions(date(2024, 1, 2), date(2024, 12, 31))
    dates = {bar["trade_date"] for bar in feeds["prices_daily"]}
    assert dates == set(sessions) and len(sessions) == 252
    assert {"2024-11-29", "2024-12-24", "2024-07-03"} <= dates  # early closes
    assert not {"2024-07-04", "2024-03-29", "2024-01-15"} & dates  # holidays
    keys = [(bar["ticker"], bar["trade_date"]) for bar in feeds["prices_daily"]]
    assert len(keys) == len(set(keys))


def test_each_ticker_has_a_bar_on_every_session_it_is_listed(feeds: dict[str, Records]) -> None:
    sessions = nyse_sessions(date(2024, 1, 2), date(2024, 12, 31))
    by_ticker = bars_by_ticker(feeds["prices_daily"])
    for inst in feeds["instruments"]:
        first = max(inst["listed_date"], sessions[0])
        last = min(inst["delisted_date"] or sessions[-1], sessions[-1])
        expected = [s for s in sessions if first <= s <= last]
        assert [b["trade_date"] for b in by_ticker[inst["ticker"]]] == expected, inst


def test_listings_and_delistings_happen_inside_the_range(feeds: dict[str, Records]) -> None:
    instruments = feeds["instruments"]
    listed = [i for i in instruments if "2024-01-02" < i["listed_date"] <= "2024-12-31"]
    delisted = [i for i in instruments if i["delisted_date"]]
    assert listed and delisted
    by_ticker = bars_by_ticker(feeds["prices_daily"])
    for inst in listed:
        assert by_ticker[inst["ticker"]][0]["trade_date"] == inst["listed_date"]
    for inst in delisted:
        assert by_ticker[inst["ticker"]][-1]["trade_date"] == inst["delisted_date"]


def test_splits_show_the_real_jump_and_have_their_action(feeds: dict[str, Records]) -> None:
    ratios = splits(feeds["corporate_actions"])
    assert ratios, "the default data should contain splits"
    for ticker, bars in bars_by_ticker(feeds["prices_daily"]).items():
        for prev, bar in itertools.pairwise(bars):
            jump = float(prev["close"]) / float(bar["close"])
            ratio = ratios.get((ticker, bar["trade_date"]))
            if ratio is None:
                assert 0.7 < jump < 1.4, (prev, bar)  # no unexplained jump in clean data
            else:
                assert 0.7 < jump / ratio < 1.4, (prev, bar, ratio)
                i = bars.index(bar)
                before, after = (
                    _mean_volume(bars[max(0, i - 10) : i]),
                    _mean_volume(bars[i : i + 10]),
                )
                assert after / before > ratio / 2  # more, cheaper shares


def test_split_adjusted_closes_have_no_jump(feeds: dict[str, Records]) -> None:
    ratios = splits(feeds["corporate_actions"])
    by_ticker = bars_by_ticker(feeds["prices_daily"])
    for ticker in {t for t, _ in ratios}:
        bars = by_ticker[ticker]
        adjusted = []
        for i, bar in enumerate(bars):
            later = [r for (t, d), r in ratios.items() if t == ticker and d > bar["trade_date"]]
            adjusted.append(float(bar["close"]) / math.prod(later))
            if i:
                assert 0.75 < adjusted[i] / adjusted[i - 1] < 1.33, (ticker, bar)


def test_some_tickers_pay_quarterly_dividends(feeds: dict[str, Records]) -> None:
    dividends = [a for a in feeds["corporate_actions"] if a["action_type"] == "dividend"]
    per_ticker = Counter(a["ticker"] for a in dividends)
    assert 5 <= len(per_ticker) < 50
    assert max(per_ticker.values()) == 4
    closes = {(b["ticker"], b["trade_date"]): float(b["close"]) for b in feeds["prices_daily"]}
    for action in dividends:
        amount = float(action["dividend_amount"])
        assert action["split_ratio"] is None
        assert (action["ticker"], action["ex_date"]) in closes
        assert 0 < amount < 0.05 * closes[action["ticker"], action["ex_date"]]


# --- reference data --------------------------------------------------------------------------


def test_instruments_come_from_real_reference_data(feeds: dict[str, Records]) -> None:
    instruments = feeds["instruments"]
    assert len(instruments) == 50
    assert {i["sector"] for i in instruments} == set(SECTORS)
    assert {i["exchange"] for i in instruments} <= {"XNYS", "XNAS"}
    assert all(i["name"] and i["industry"] and i["listed_date"] for i in instruments)
    big = {c.ticker: c for c in universe(503)}
    assert big["AAPL"].name == "Apple Inc." and big["AAPL"].exchange == "XNAS"
    assert big["JPM"].sector == "Financials" and big["JPM"].exchange == "XNYS"


def test_a_large_universe_extends_with_deterministic_synthetic_tickers() -> None:
    companies = universe(10_000)
    tickers = [c.ticker for c in companies]
    assert len(set(tickers)) == 10_000
    synthetic = [c for c in companies if c.index == "synthetic"]
    assert len(synthetic) == 10_000 - 1505  # the S&P 500, 400 and 600 come first
    assert {c.ticker for c in synthetic} == {f"SYN{n:05d}" for n in range(1, 8496)}
    assert {c.sector for c in synthetic} == set(SECTORS)
    assert universe(10_000) == companies and universe(10)[0] in companies


def test_a_large_configuration_streams_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = 0
    original = simulator.Market._path

    def counting(self: simulator.Market, *args: Any) -> Any:
        nonlocal paths
        paths += 1
        return original(self, *args)

    monkeypatch.setattr(simulator.Market, "_path", counting)
    config = SimulationConfig(tickers=10_000, start=date(2006, 1, 3), end=date(2025, 12, 31))
    prices = next(d for d in simulate(config) if d.dataset == "prices_daily")
    first = list(itertools.islice(prices.records, 1000))
    assert len(first) == 1000 and first[0]["ticker"] == universe(10_000)[0].ticker
    # A few tickers simulated (deliveries peek at their first record), not fifty million bars.
    assert paths < 10


# --- news and sentiment ----------------------------------------------------------------------


def _published(article: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(article["published_at"].replace("Z", "+00:00"))


def test_news_is_published_around_the_clock_with_a_zone(feeds: dict[str, Records]) -> None:
    articles = feeds["news_articles"]
    assert len(articles) > 500
    stamps = [_published(a) for a in articles]
    assert all(s.tzinfo is not None and s.utcoffset() is not None for s in stamps)
    assert any(a["published_at"].endswith("Z") for a in articles)
    assert any(a["published_at"][-6] in "+-" for a in articles)
    local = [s.astimezone(NEW_YORK) for s in stamps]
    assert sum(t.hour >= 16 for t in local) > len(local) / 5  # after the close
    assert sum(t.weekday() >= 5 for t in local) > 10  # weekends
    assert len({a["article_id"] for a in articles}) == len(articles)
    assert len({a["url"] for a in articles}) == len(articles)
    tickers = {i["ticker"] for i in feeds["instruments"]}
    assert all(a["tickers"] and set(a["tickers"]) <= tickers for a in articles)
    assert any(len(a["tickers"]) > 1 for a in articles)
    assert all(a["headline"] and a["summary"] and a["publisher"] for a in articles)


def test_news_tone_tends_to_follow_the_move(feeds: dict[str, Records]) -> None:
    closes = {(b["ticker"], b["trade_date"]): float(b["close"]) for b in feeds["prices_daily"]}
    previous = {}
    for ticker, bars in bars_by_ticker(feeds["prices_daily"]).items():
        for prev, bar in itertools.pairwise(bars):
            previous[ticker, bar["trade_date"]] = float(prev["close"])
    # An article id names the session it is about: <publisher>-<yyyymmdd>-<hash>.
    session = {
        a["article_id"]: str(datetime.strptime(a["article_id"].split("-")[-2], "%Y%m%d").date())
        for a in feeds["news_articles"]
    }
    moves = defaultdict(list)
    for s in feeds["news_sentiment"]:
        key = (s["ticker"], session[s["article_id"]])
        if key in previous:
            up = closes[key] > previous[key]
            moves[up].append(float(s["score"]))
    mean_up = sum(moves[True]) / len(moves[True])
    mean_down = sum(moves[False]) / len(moves[False])
    assert mean_up > 0.2 and mean_down < -0.1, (mean_up, mean_down)


def test_sentiment_is_vader_per_article_and_ticker(feeds: dict[str, Records]) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    articles = {a["article_id"]: a for a in feeds["news_articles"]}
    sentiment = feeds["news_sentiment"]
    assert Counter((s["article_id"], s["ticker"]) for s in sentiment) == Counter(
        (a["article_id"], t) for a in articles.values() for t in a["tickers"]
    )
    assert version("vaderSentiment") == "3.3.2"
    assert {(s["model_name"], s["model_version"]) for s in sentiment} == {("vader", "3.3.2")}
    analyzer = SentimentIntensityAnalyzer()
    for s in sentiment:
        score = float(s["score"])
        assert -1 <= score <= 1
        expected = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
        assert s["label"] == expected
        article = articles[s["article_id"]]
        if len(article["tickers"]) == 1:  # scored on the headline and the whole summary
            text = f"{article['headline']} {article['summary']}"
            assert s["score"] == f"{analyzer.polarity_scores(text)['compound']:.4f}"
    assert set(Counter(s["label"] for s in sentiment)) == {"positive", "neutral", "negative"}


# --- faults ----------------------------------------------------------------------------------


def test_faults_leave_the_clean_deliveries_unchanged(run: list) -> None:
    clean = materialise(SimulationConfig())
    assert [(d.dataset, d.description) for d, _ in clean] == [
        (d.dataset, d.description) for d, _ in run[: len(CLEAN)]
    ]
    assert [records for _, records in clean] == [records for _, records in run[: len(CLEAN)]]


def _clean_bar(feeds: dict[str, Records], bar: dict[str, Any]) -> dict[str, Any]:
    return next(
        b
        for b in feeds["prices_daily"]
        if (b["ticker"], b["trade_date"]) == (bar["ticker"], bar["trade_date"])
    )


def _same_except(a: dict[str, Any], b: dict[str, Any], *keys: str) -> bool:
    ignored = {"line_number", *keys}
    return {k: v for k, v in a.items() if k not in ignored} == {
        k: v for k, v in b.items() if k not in ignored
    }


def test_duplicate_batch_is_the_last_prices_delivery_again(feeds: dict, faults: dict) -> None:
    assert faults["duplicate_batch"].records == feeds["prices_daily"]


def test_restated_bar_changes_one_past_close(feeds: dict, faults: dict) -> None:
    (bar,) = faults["restated_bar"].records
    clean = _clean_bar(feeds, bar)
    assert bar["trade_date"] < "2024-12-31" and bar["close"] != clean["close"]
    assert _same_except(bar, clean, "close", "high")
    assert float(bar["low"]) <= float(bar["close"]) <= float(bar["high"])


def test_late_bar_is_for_a_session_before_the_delivered_ones(faults: dict) -> None:
    (bar,) = faults["late_bar"].records
    assert bar["trade_date"] == "2023-12-29"
    o, h, lo, c = (float(bar[k]) for k in ("open", "high", "low", "close"))
    assert 0 < lo <= min(o, c) <= max(o, c) <= h


def test_malformed_lines_become_rejections_between_records(tmp_path: Path, faults: dict) -> None:
    delivery = faults["malformed_lines"]
    rejected = {r.line_number: r for r in delivery.rejections}
    assert {r.rule_id for r in rejected.values()} == {"csv_field_count", "encoding"}
    numbers = sorted([r["line_number"] for r in delivery.records] + list(rejected))
    assert numbers == list(range(1, len(numbers) + 1))
    assert "\\xff" in next(r.raw_record for r in rejected.values() if r.rule_id == "encoding")
    result = BronzeWriter(tmp_path).write_records(
        CONTRACTS["prices_daily"], "simulator", delivery.records, rejections=delivery.rejections
    )
    assert result.manifest.status == COMMITTED and result.manifest.rejected_count == 2


@pytest.mark.parametrize(
    ("name", "defect"),
    [
        ("nan_price", lambda b: math.isnan(float(b["close"]))),
        ("inf_price", lambda b: math.isinf(float(b["high"]))),
        ("negative_price", lambda b: float(b["low"]) < 0),
        ("negative_volume", lambda b: int(b["volume"]) < 0),
        ("ohlc_break", lambda b: float(b["high"]) < float(b["low"])),
    ],
)
def test_value_faults_redeliver_one_clean_bar_with_the_defect(
    feeds: dict, faults: dict, name: str, defect: Any
) -> None:
    (bar,) = faults[name].records
    clean = _clean_bar(feeds, bar)
    assert defect(bar) and not defect(clean)
    assert _same_except(bar, clean, "open", "high", "low", "close", "volume")


def test_split_without_action_halves_one_ticker_on_the_next_session(
    feeds: dict, faults: dict
) -> None:
    bars = faults["split_without_action"].records
    assert {b["trade_date"] for b in bars} == {"2025-01-02"}
    last = {
        b["ticker"]: float(b["close"])
        for b in feeds["prices_daily"]
        if b["trade_date"] == "2024-12-31"
    }
    moves = {b["ticker"]: float(b["close"]) / last[b["ticker"]] for b in bars}
    halved = [t for t, m in moves.items() if m < 0.7]
    assert len(halved) == 1 and 0.35 < moves[halved[0]] < 0.7
    assert all(0.7 < m < 1.4 for t, m in moves.items() if t not in halved)
    assert not [a for a in feeds["corporate_actions"] if a["ex_date"] == "2025-01-02"]


def test_action_without_jump_announces_a_split_the_bars_do_not_show(
    feeds: dict, faults: dict
) -> None:
    (action,) = faults["action_without_jump"].records
    assert action["action_type"] == "split" and action["split_ratio"] == "2"
    closes = {
        b["trade_date"]: float(b["close"])
        for b in feeds["prices_daily"]
        if b["ticker"] == action["ticker"]
    }
    assert action["ex_date"] == "2024-12-31" == max(closes)
    previous = max(d for d in closes if d < action["ex_date"])
    assert 0.7 < closes[action["ex_date"]] / closes[previous] < 1.4  # no halving
    assert not [
        a
        for a in feeds["corporate_actions"]
        if a["ticker"] == action["ticker"] and a["ex_date"] == action["ex_date"]
    ]


def test_missing_column_records_lack_volume(tmp_path: Path, faults: dict) -> None:
    records = faults["missing_column"].records
    assert len(records) == 3 and all("volume" not in r and r["close"] for r in records)
    m = (
        BronzeWriter(tmp_path)
        .write_records(CONTRACTS["prices_daily"], "simulator", records)
        .manifest
    )
    lines = (tmp_path / "prices_daily" / m.partition_path / m.file).read_text().splitlines()
    assert all(line.endswith(",,") for line in lines[1:])  # adj_close and volume empty


def test_sentiment_records_serialise_as_json_text(tmp_path: Path, feeds: dict) -> None:
    m = (
        BronzeWriter(tmp_path)
        .write_records(CONTRACTS["news_sentiment"], "simulator", feeds["news_sentiment"][:3])
        .manifest
    )
    lines = (tmp_path / "news_sentiment" / m.partition_path / m.file).read_text().splitlines()
    assert isinstance(json.loads(lines[0])["score"], str)
