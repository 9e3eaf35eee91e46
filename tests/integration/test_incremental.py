"""Incremental builds: a run rewrites, gates and re-points only the months its new data
touches, and the result equals a full rebuild's. A lake and an engine of their own, on a
small market; the tests run in file order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from marketpulse.config import Settings
from marketpulse.engine import Engine, EngineClient, free_port
from marketpulse.incremental import NEWS_MODELS
from marketpulse.ingestion.simulator import SimulationConfig, session_window, simulate
from marketpulse.pipeline import Pipeline
from marketpulse.publish import Publisher

from .conftest import snapshot

# Two years: a June window's 400 bars of context start after each ticker's first bar, so
# windowed builds continue fct_ticker_daily's session numbers and EMA blocks.
START, END = date(2022, 7, 1), date(2024, 6, 28)
PARTITIONED = (
    "silver.prices_daily",
    "gold.fct_ticker_daily",
    "gold.fct_market_daily",
    "gold.fct_sector_daily",
    "gold.fct_ticker_sentiment_daily",
)
# Its rows depend on the next bar: it also rewrites the month before the window.
SIGNAL = "gold.fct_sentiment_signal"
# The restatements log appended by each build holds what a full rebuild derives anew.
DERIVED = (
    *PARTITIONED,
    SIGNAL,
    "gold.dim_instruments",
    "silver.restatements",
    "silver.held_prices",
    *NEWS_MODELS,
)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every session but the last, built in full; the last session's delivery held back."""
    settings = Settings(home=tmp_path_factory.mktemp("incremental_lake"), port=free_port())
    Engine(settings).start(progress=print)
    try:
        sessions = session_window(START, END)
        market = SimulationConfig(
            tickers=8, start=START, end=END, batch_sessions=sessions.last - sessions.first
        )
        deliveries = list(simulate(market))
        last = [d for d in deliveries if d.dataset == "prices_daily"][-1]
        pipeline = Pipeline(settings)
        for d in deliveries:
            if d is not last:
                pipeline.ingest(d.dataset, d.source, d.records, register=False)
        pipeline.register_pending()
        first = pipeline.build()
        assert not first.blocked
        assert {m.rebuild_from for m in first.published.values()} == {None}  # nothing to keep
        yield {"settings": settings, "pipeline": pipeline, "last": last}
    finally:
        Engine(settings).stop(progress=print)


@pytest.fixture()
def reader(lake: dict[str, Any]) -> Iterator[EngineClient]:
    client = EngineClient(lake["settings"])
    yield client
    client.close()


def _untouched(reader: EngineClient, served: dict[str, dict[str, str]], month: str) -> Any:
    """Files (name, size, mtime) and rows of every partition before `month`."""
    state = {}
    for table, partitions in served.items():
        for spec, location in partitions.items():
            if spec.split("=")[1] < month:
                directory = Path(location.removeprefix("file:"))
                files = sorted(
                    (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in directory.iterdir()
                )
                column, value = spec.split("=")
                rows = sorted(
                    reader.query(f"select * from {table} where {column} = '{value}'"), key=repr
                )
                state[(table, spec)] = (files, rows)
    return state


def _month_before(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def _assert_rebuilt_from(
    before: dict[str, str], after: dict[str, str], month: str, run_id: str, table: str
) -> None:
    """Months before `month` kept where they were; it and later months rebuilt by the run."""
    for spec, location in after.items():
        if spec.split("=")[1] < month:
            assert location == before[spec], f"{table} {spec} was rewritten"
        else:
            assert f"_v={run_id}/" in location, f"{table} {spec} was not rebuilt"


def _tables(pipeline: Pipeline, layer: str) -> dict[str, str]:
    """Where each table of the layer's version of record is."""
    return Publisher(pipeline.client(), pipeline.lake).history(layer)[-1].tables


def _served(pipeline: Pipeline, table: str) -> dict[str, str]:
    layer = table.split(".")[0]
    return Publisher(pipeline.client(), pipeline.lake).history(layer)[-1].partitions[table]


def test_a_new_session_rebuilds_only_its_month(lake: dict[str, Any], reader: EngineClient) -> None:
    pipeline, last = lake["pipeline"], lake["last"]
    before = {t: _served(pipeline, t) for t in (*PARTITIONED, SIGNAL)}
    news_before = _tables(pipeline, "silver")
    bars = list(last.records)
    withheld = bars.pop()  # one ticker's bar is late: the session is incomplete
    lake["withheld"] = withheld
    pipeline.ingest(last.dataset, last.source, bars)
    report = pipeline.build()
    assert not report.blocked
    # Completeness is a warning that names the missing (ticker, session) pair.
    (completeness,) = [
        o
        for o in report.gates["silver"].outcomes
        if o.table.endswith("prices_daily") and "Completeness" in o.description
    ]
    assert not completeness.success and completeness.severity == "warning"
    missing = {"ticker": withheld["ticker"], "session_date": withheld["trade_date"]}
    assert [json.loads(e) for e in completeness.observed["examples"]] == [missing]
    assert report.published["silver"].rebuild_from == "2024-06-01"
    assert report.published["gold"].rebuild_from == "2024-06-01"
    for table in (*PARTITIONED, SIGNAL):
        after = _served(pipeline, table)
        changed = sorted(spec for spec in after if after[spec] != before[table].get(spec))
        if table == "gold.fct_ticker_sentiment_daily":
            # News published after the last close counts for the next session, in July.
            assert changed[0] == "trade_month=2024-06", table
            assert set(changed) <= {"trade_month=2024-06", "trade_month=2024-07"}, table
        elif table == SIGNAL:  # May's last bars pair with June's first returns
            assert changed == ["trade_month=2024-05", "trade_month=2024-06"], table
        else:
            assert changed == ["trade_month=2024-06"], table
        assert all(f"_v={report.run_id}/" in after[spec] for spec in changed), table
    # The gate history records per table the months its gate validated.
    recorded = reader.query(
        "select distinct substring_index(table_name, '.', -1), partition_range "
        f"from quality.gate_results where run_id = '{report.run_id}' and layer = 'gold'"
    )
    validated = dict(recorded)
    assert len(validated) == len(recorded)  # one range per table
    assert validated["fct_ticker_daily"] == "trade_month >= 2024-06"
    assert validated["fct_sentiment_signal"] == "trade_month >= 2024-05"
    assert validated["dim_instruments"] == "all"  # small and unpartitioned: built whole
    # No news batch arrived: silver serves its news tables as published, neither built nor
    # gated again.
    publisher = Publisher(pipeline.client(), pipeline.lake)
    for table in NEWS_MODELS:
        assert report.published["silver"].tables[table] == news_before[table], table
        assert publisher.location(table) == news_before[table], table
    gated = {o.table.split(".")[1] for o in report.gates["silver"].outcomes}
    assert gated.isdisjoint(t.split(".")[1] for t in NEWS_MODELS)
    assert "prices_daily" in gated


def test_a_restated_bar_30_sessions_back_rebuilds_from_its_month_only(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    pipeline = lake["pipeline"]
    ticker, trade_date, close, high, low = reader.query(
        "select ticker, cast(trade_date as string), close, high, low from ("
        "  select *, dense_rank() over (order by trade_date desc) as sessions_back"
        "  from silver.prices_daily"
        ") where sessions_back = 31 and high > low order by ticker limit 1"
    )[0]
    restated_close = round((high + low) / 2, 4)
    assert restated_close != close
    month = trade_date[:7]
    assert month < "2024-06"  # 30 sessions back reaches into an earlier month
    before = {t: _served(pipeline, t) for t in PARTITIONED}
    signal_before, signal_from = _served(pipeline, SIGNAL), _month_before(month)
    untouched = _untouched(reader, before, month)
    signal_untouched = _untouched(reader, {SIGNAL: signal_before}, signal_from)
    assert len(untouched) >= len(PARTITIONED)  # every table has months before the restatement
    open_, volume = reader.query(
        "select open, volume from silver.prices_daily "
        f"where ticker = '{ticker}' and trade_date = '{trade_date}'"
    )[0]
    restated = {
        "line_number": 1,
        "ticker": ticker,
        "trade_date": trade_date,
        "open": repr(open_),
        "high": repr(high),
        "low": repr(low),
        "close": repr(restated_close),
        "adj_close": "",
        "volume": str(volume),
    }
    pipeline.ingest(
        "prices_daily", "vendor_fix", [restated, {**lake["withheld"], "line_number": 2}]
    )
    report = pipeline.build()
    assert not report.blocked
    assert report.published["silver"].rebuild_from == f"{month}-01"
    assert report.published["gold"].rebuild_from == f"{month}-01"
    for table in PARTITIONED:
        _assert_rebuilt_from(before[table], _served(pipeline, table), month, report.run_id, table)
    # The bars before the restated month may have a new next return: their month too.
    _assert_rebuilt_from(
        signal_before, _served(pipeline, SIGNAL), signal_from, report.run_id, SIGNAL
    )
    assert reader.query(
        "select close from silver.prices_daily "
        f"where ticker = '{ticker}' and trade_date = '{trade_date}'"
    ) == [(restated_close,)]
    assert _untouched(reader, before, month) == untouched
    assert _untouched(reader, {SIGNAL: signal_before}, signal_from) == signal_untouched
    restatement = reader.query(
        "select old_value, new_value from silver.restatements "
        f"where ticker = '{ticker}' and trade_date = '{trade_date}' and column_name = 'close'"
    )
    assert [(float(old), float(new)) for old, new in restatement] == [(close, restated_close)]


def test_late_news_for_an_old_session_rebuilds_gold_from_its_month(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    pipeline = lake["pipeline"]
    ticker, session = reader.query(
        "select ticker, cast(trade_date as string) from silver.prices_daily "
        "where trade_month = '2024-02' order by trade_date, ticker limit 1"
    )[0]
    counted = (
        "select article_count from gold.fct_ticker_sentiment_daily "
        f"where ticker = '{ticker}' and trade_date = '{session}'"
    )
    articles_before = sum(n for (n,) in reader.query(counted))
    before = {t: _served(pipeline, t) for t in (*PARTITIONED, SIGNAL)}
    untouched = _untouched(reader, {t: before[t] for t in PARTITIONED}, "2024-02")
    article = {
        "line_number": 1,
        "article_id": "late-wire-1",
        "published_at": f"{session}T15:00:00+00:00",  # before that session's close
        "headline": f"{ticker} files a late notice",
        "summary": "Delivered months after it was published.",
        "publisher": "Late Wire",
        "url": "https://news.example.com/late-wire/late-notice-1",
        "tickers": [ticker],
    }
    score = {
        "line_number": 1,
        "article_id": "late-wire-1",
        "ticker": ticker,
        "model_name": "vader",
        "model_version": "3.3.2",
        "score": "0.5",
        "label": "positive",
    }
    lake["late_article"] = (ticker, session)
    pipeline.ingest("news_articles", "late_wire", [article])
    pipeline.ingest("news_sentiment", "late_wire", [score])
    report = pipeline.build()
    assert not report.blocked
    # Silver's price tables have nothing new; gold goes back to the news' month.
    assert report.published["silver"].rebuild_from == "2024-06-01"
    assert report.published["gold"].rebuild_from == "2024-02-01"
    assert reader.query(counted) == [(articles_before + 1,)]
    for table in PARTITIONED[1:]:
        _assert_rebuilt_from(
            before[table], _served(pipeline, table), "2024-02", report.run_id, table
        )
    _assert_rebuilt_from(
        before[SIGNAL], _served(pipeline, SIGNAL), "2024-01", report.run_id, SIGNAL
    )
    assert _untouched(reader, {t: before[t] for t in PARTITIONED}, "2024-02") == untouched


def test_a_rescored_article_rebuilds_gold_from_its_month(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    pipeline, (ticker, session) = lake["pipeline"], lake["late_article"]
    rescored = {
        "line_number": 1,
        "article_id": "late-wire-1",
        "ticker": ticker,
        "model_name": "vader",
        "model_version": "3.3.2",
        "score": "-0.5",
        "label": "negative",
    }
    daily = (
        "select article_count, mean_score from gold.fct_ticker_sentiment_daily "
        f"where ticker = '{ticker}' and trade_date = '{session}'"
    )
    ((articles, mean_before),) = reader.query(daily)
    pipeline.ingest("news_sentiment", "late_wire", [rescored])  # only the score changes
    report = pipeline.build()
    assert not report.blocked
    assert report.published["gold"].rebuild_from == f"{session[:7]}-01"
    ((articles_after, mean_after),) = reader.query(daily)
    assert articles_after == articles
    assert mean_after == pytest.approx(mean_before - 1.0 / articles, rel=1e-9)


def test_an_earlier_copy_takes_over_its_article_and_scores(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    """A news build reads only the unread batches from bronze; the published deliveries
    are mapped onto articles again, so a copy published earlier under the same url takes
    over the article, its deliveries and its scores (which a build ranking only the new
    scores beside the published winners would leave on the old id)."""
    pipeline, (ticker, session) = lake["pipeline"], lake["late_article"]
    daily = (
        "select article_count, mean_score from gold.fct_ticker_sentiment_daily "
        f"where ticker = '{ticker}' and trade_date = '{session}'"
    )
    counted_before = reader.query(daily)
    ((score,),) = reader.query(
        "select score from silver.news_sentiment where article_id = 'late-wire-1'"
    )
    copy = {
        "line_number": 1,
        "article_id": "copy-wire-1",
        "published_at": f"{session}T14:50:00+00:00",  # ten minutes before the original
        "headline": f"{ticker} files a late notice (copy)",
        "summary": "Copied from the late wire.",
        "publisher": "Copy Desk",
        "url": "https://news.example.com/late-wire/late-notice-1",
        "tickers": [ticker],
    }
    pipeline.ingest("news_articles", "copy_desk", [copy])
    report = pipeline.build()
    assert not report.blocked
    assert reader.query(
        "select delivered_article_id, article_id from silver.news_article_deliveries "
        "where delivered_article_id in ('late-wire-1', 'copy-wire-1') order by 1"
    ) == [("copy-wire-1", "copy-wire-1"), ("late-wire-1", "copy-wire-1")]
    assert reader.query(
        "select article_id, duplicates_merged from silver.news_articles "
        "where article_id in ('late-wire-1', 'copy-wire-1')"
    ) == [("copy-wire-1", 1)]
    assert reader.query(
        "select article_id, score from silver.news_sentiment "
        "where article_id in ('late-wire-1', 'copy-wire-1')"
    ) == [("copy-wire-1", score)]
    assert reader.query(daily) == counted_before  # still one article, the same score


def test_every_delivered_article_is_a_delivery_or_quarantined(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    """Reconciliation per news batch: every delivered line is a passing delivery (its own
    article or merged into one) or quarantined; copies published earlier take their
    articles over."""
    pipeline = lake["pipeline"]
    published = reader.query(
        "select cast(published_at as string), url, tickers from silver.news_articles "
        "where url is not null order by article_id limit 20"
    )
    assert len(published) == 20
    copies = [
        {
            "line_number": i,
            "article_id": f"syndicate-{i}",
            # Half a minute before or after the original: half of them take it over.
            "published_at": (
                datetime.fromisoformat(f"{at}+00:00") + timedelta(seconds=30 * (-1) ** i)
            ).isoformat(),
            "headline": f"Syndicated story {i}",
            "summary": "A copy under the original's url.",
            "publisher": "Syndicate",
            "url": url,
            "tickers": json.loads(tickers) if isinstance(tickers, str) else list(tickers),
        }
        for i, (at, url, tickers) in enumerate(published, 1)
    ]
    fresh = [
        {
            **copies[0],
            "line_number": n,
            "article_id": f"syndicate-new-{n}",
            "headline": f"Fresh story {n}",
            "url": f"https://news.example.com/syndicate/{n}",
        }
        for n in range(21, 25)
    ]
    no_ticker = {**fresh[0], "line_number": 25, "article_id": "syndicate-bad", "tickers": []}
    pipeline.ingest("news_articles", "syndicate", [*copies, *fresh, no_ticker])
    report = pipeline.build()
    assert not report.blocked
    rows = reader.query(
        "select b.source, b.record_count + b.rejected_count, coalesce(d.n, 0), "
        "coalesce(q.n, 0) from bronze.batches as b "
        "left join (select batch_id, count(*) as n from silver.news_article_deliveries "
        "group by batch_id) as d on b.batch_id = d.batch_id "
        "left join (select batch_id, count(*) as n from silver.quarantine "
        "where dataset = 'news_articles' group by batch_id) as q on b.batch_id = q.batch_id "
        "where b.dataset = 'news_articles'"
    )
    for source, delivered, deliveries, quarantined in rows:
        assert deliveries + quarantined == delivered, source
    assert ("syndicate", 25, 24, 1) in rows
    taken_over = reader.query(
        "select count(*) from silver.news_articles where article_id like 'syndicate-%'"
    )
    assert taken_over == [(10 + 4,)]  # the earlier half of the copies, and the fresh ones


def _restatements(pipeline: Pipeline, reader: EngineClient) -> Any:
    """The restatements log's served partitions and rows."""
    return _served(pipeline, "silver.restatements"), snapshot(reader, "silver.restatements")


def test_the_quarantine_log_is_appended_never_replaced(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    pipeline = lake["pipeline"]
    log = "select * from silver.quarantine"
    # A score for an article not delivered yet, among re-delivered scores (a 1-in-26 rate).
    scores = reader.query(
        "select article_id, ticker, model_name, model_version, cast(score as string), label "
        "from silver.news_sentiment order by article_id, ticker, model_name limit 25"
    )
    assert len(scores) == 25
    fields = ("article_id", "ticker", "model_name", "model_version", "score", "label")
    orphan = ("early-wire-1", scores[0][1], "vader", "3.3.2", "0.25", "positive")
    pipeline.ingest(
        "news_sentiment",
        "early_wire",
        [
            {"line_number": i, **dict(zip(fields, s, strict=True))}
            for i, s in enumerate([*scores, orphan], 1)
        ],
    )
    logged_before = reader.query(log)
    restatements = _restatements(pipeline, reader)
    report = pipeline.build()
    assert not report.blocked
    logged = reader.query(log)
    (new_row,) = [r for r in logged if r not in logged_before]
    assert (new_row[0], new_row[7]) == ("news_sentiment", "article_unknown")
    assert set(logged_before) <= set(logged)  # nothing logged before is replaced
    served = _served(pipeline, "silver.quarantine")
    # The article arrives: the score is published and stays in the log, whose files stay.
    (session,) = reader.query("select cast(max(trade_date) as string) from silver.prices_daily")[0]
    pipeline.ingest(
        "news_articles",
        "early_wire",
        [
            {
                "line_number": 1,
                "article_id": "early-wire-1",
                "published_at": f"{session}T15:00:00+00:00",
                "headline": f"{orphan[1]} files an early notice",
                "summary": "Its score came first.",
                "publisher": "Early Wire",
                "url": "https://news.example.com/early-wire/early-notice-1",
                "tickers": [orphan[1]],
            }
        ],
    )
    report = pipeline.build()
    assert not report.blocked
    assert reader.query(
        "select count(*) from silver.news_sentiment where article_id = 'early-wire-1'"
    ) == [(1,)]
    assert sorted(reader.query(log), key=repr) == sorted(logged, key=repr)
    assert _served(pipeline, "silver.quarantine") == served
    # Neither build delivered a bar: the restatements log kept its files and rows.
    assert _restatements(pipeline, reader) == restatements


def _bar(reader: EngineClient, where: str) -> dict[str, Any]:
    """A published bar as a vendor would re-deliver it (without an adjusted close)."""
    row = reader.query(
        "select ticker, cast(trade_date as string), open, high, low, close, volume "
        f"from silver.prices_daily where {where} order by trade_date desc, ticker limit 1"
    )[0]
    fields = ("ticker", "trade_date", "open", "high", "low", "close", "volume")
    bar = dict(zip(fields, map(str, row), strict=True))
    return {"line_number": 1, **bar, "adj_close": ""}


def _halved(bar: dict[str, Any]) -> dict[str, Any]:
    """The bar at half its prices: a split-like jump no split explains."""
    return {
        **bar,
        **{c: repr(round(float(bar[c]) / 2, 4)) for c in ("open", "high", "low", "close")},
    }


def _build_from(pipeline: Pipeline, bar: dict[str, Any], month: str) -> None:
    """Deliver one bar and build: silver rebuilds from `month` on."""
    pipeline.ingest("prices_daily", "vendor_fix", [bar])
    report = pipeline.build()
    assert not report.blocked
    assert report.published["silver"].rebuild_from == f"{month}-01"


def test_a_ticker_held_before_the_window_stays_held(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    """A held ticker's later months are rebuilt from the published hold: its bars in the
    window show no jump of their own, yet stay held from the jump before it."""
    pipeline = lake["pipeline"]
    halved = _halved(_bar(reader, "trade_month = '2024-05' and trade_date < '2024-05-20'"))
    ticker, jump_date = halved["ticker"], halved["trade_date"]
    _build_from(pipeline, halved, "2024-05")
    held = "select trade_date, jump_date, rule_id from silver.held_prices where ticker = "
    held_from_may = reader.query(held + f"'{ticker}' order by trade_date")
    assert str(held_from_may[0][0]) == jump_date
    assert {(str(j), r) for _, j, r in held_from_may} == {(jump_date, "split_like_jump")}
    # A restated June bar of another ticker: only June is rebuilt.
    restated = _bar(reader, f"trade_month = '2024-06' and ticker <> '{ticker}' and high > low")
    restated["close"] = repr(round((float(restated["high"]) + float(restated["low"])) / 2, 4))
    _build_from(pipeline, restated, "2024-06")
    assert reader.query(held + f"'{ticker}' order by trade_date") == held_from_may
    assert reader.query(
        f"select count(*) from silver.prices_daily where ticker = '{ticker}' "
        f"and trade_date >= '{jump_date}'"
    ) == [(0,)]
    # A jump on the window's first session: its previous bar is the published one before.
    ((first,),) = reader.query(
        "select min(trade_date) from silver.prices_daily where trade_month = '2024-06'"
    )
    others = f"('{ticker}', '{restated['ticker']}')"
    opening = _halved(
        _bar(reader, f"trade_date = '{first}' and ticker not in {others} and high > low")
    )
    _build_from(pipeline, opening, "2024-06")
    (jump,) = {row[1:] for row in reader.query(held + f"'{opening['ticker']}'")}
    assert (str(jump[0]), jump[1]) == (opening["trade_date"], "split_like_jump")
    # The held bar delivered twice more before one build: the first delivery is compared
    # with the held one, which the published held_prices keeps (no delivery is read
    # again), the second with the first.
    key = f"ticker = '{opening['ticker']}' and trade_date = '{opening['trade_date']}'"
    ((held_batch, held_close),) = reader.query(
        f"select batch_id, cast(close as string) from silver.held_prices where {key}"
    )
    first, second = ("low", "high") if opening["close"] == opening["high"] else ("high", "low")
    first, second = opening[first], opening[second]  # each another close than the last
    again = pipeline.ingest("prices_daily", "vendor_fix", [{**opening, "close": first}])
    _build_from(pipeline, {**opening, "close": second}, "2024-06")
    restated_close = reader.query(
        "select old_value, new_value, old_batch_id from silver.restatements "
        f"where {key} and column_name = 'close' and new_batch_id <> '{held_batch}' "
        "order by detected_at"
    )
    assert restated_close == [
        (held_close, first, held_batch),
        (first, second, again.manifest.batch_id),
    ]


def test_a_jump_after_a_halt_stays_held_when_rebuilt(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    """A windowed build compares a ticker's first bar in the window with its last
    published bar, however old: a jump across a halt of months is found again when a
    later window rebuilds the bar."""
    pipeline = lake["pipeline"]

    def flat_bar(trade_date: str, price: str) -> dict[str, Any]:
        prices = dict.fromkeys(("open", "high", "low", "close"), price)
        return {
            "line_number": 1,
            "ticker": "HALTD",
            "trade_date": trade_date,
            **prices,
            "volume": "1000",
            "adj_close": "",
        }

    # A new ticker's bars, halted from March to June: rebuilt from March.
    pipeline.ingest(
        "prices_daily",
        "vendor_fix",
        [flat_bar("2024-03-15", "100.0"), flat_bar("2024-06-03", "50.0")],
    )
    report = pipeline.build()
    assert not report.blocked
    assert report.published["silver"].rebuild_from == "2024-03-01"
    held = (
        "select cast(trade_date as string), cast(jump_date as string), rule_id, close_ratio "
        "from silver.held_prices where ticker = 'HALTD'"
    )
    assert reader.query(held) == [("2024-06-03", "2024-06-03", "split_like_jump", 0.5)]
    # Another ticker's June bar delivered again, closing at its low: June is rebuilt, and
    # HALTD's June bar with it.
    restated = _bar(reader, "trade_month = '2024-06' and ticker <> 'HALTD' and high > low")
    restated["close"] = restated["low"]
    _build_from(pipeline, restated, "2024-06")
    assert reader.query(held) == [("2024-06-03", "2024-06-03", "split_like_jump", 0.5)]
    assert reader.query(
        "select cast(trade_date as string) from silver.prices_daily where ticker = 'HALTD'"
    ) == [("2024-03-15",)]


def test_a_bar_before_the_calendar_extends_it_from_its_year(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    """The calendar covers the published version's span and the unread batches' bars: a
    vendor file reaching back to 1999 lands the sessions from 1999 on (every month is
    rebuilt), and the next build lands no calendar again."""
    pipeline = lake["pipeline"]
    # The first session's bar copied: no jump to its next bar.
    first_session = "trade_date = (select min(trade_date) from silver.prices_daily)"
    bar = {**_bar(reader, first_session), "trade_date": "1999-06-01"}
    pipeline.ingest("prices_daily", "vendor_history", [bar])
    report = pipeline.build()
    assert not report.blocked
    assert report.published["silver"].rebuild_from is None  # a new calendar
    assert reader.query(
        "select cast(min(session_date) as string) from silver.trading_sessions"
    ) == [("1999-01-04",)]
    key = f"ticker = '{bar['ticker']}' and trade_date = '1999-06-01'"
    assert reader.query(f"select count(*) from silver.prices_daily where {key}") == [(1,)]
    again = pipeline.build()
    assert not again.blocked
    assert again.published["silver"].rebuild_from is not None  # no calendar landed


def test_incremental_results_equal_a_full_rebuild(
    lake: dict[str, Any], reader: EngineClient
) -> None:
    pipeline = lake["pipeline"]
    incremental = {t: snapshot(reader, t) for t in DERIVED}
    report = pipeline.build(full_refresh=True)
    assert not report.blocked
    assert {m.rebuild_from for m in report.published.values()} == {None}
    reader.close()
    fresh = EngineClient(lake["settings"])
    try:
        for table in DERIVED:
            assert snapshot(fresh, table) == incremental[table], table
    finally:
        fresh.close()
