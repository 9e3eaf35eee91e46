"""W2's repeated sessions: how a delivery is cut and which build is reported (no engine)."""

from __future__ import annotations

import pytest

from bench.workloads import by_session, hold_back_news, median_increment
from marketpulse.ingestion.simulator import Delivery


def test_a_delivery_is_cut_into_sessions_each_numbered_from_one() -> None:
    bars = [
        {"ticker": t, "trade_date": d, "line_number": n}
        for n, (d, t) in enumerate(
            [("2024-12-30", "A"), ("2024-12-27", "A"), ("2024-12-30", "B"), ("2024-12-31", "A")],
            start=1,
        )
    ]
    cut = by_session(bars)
    assert [day for day, _ in cut] == ["2024-12-27", "2024-12-30", "2024-12-31"]
    assert [[(r["ticker"], r["line_number"]) for r in rs] for _, rs in cut] == [
        [("A", 1)],
        [("A", 1), ("B", 2)],
        [("A", 1)],
    ]
    assert sorted((r["ticker"], r["trade_date"]) for _, rs in cut for r in rs) == sorted(
        (r["ticker"], r["trade_date"]) for r in bars
    )


@pytest.mark.parametrize(
    ("totals", "median"), [([9.0], 9.0), ([5.0, 9.0, 7.0], 7.0), ([5.0, 9.0, 7.0, 6.0], 6.0)]
)
def test_the_median_build_is_reported_with_every_session_total(
    totals: list[float], median: float
) -> None:
    increments = [{"total_s": t, "session": str(i)} for i, t in enumerate(totals)]
    reported = median_increment(increments)
    assert reported["total_s"] == median
    assert reported["sessions_total_s"] == totals


def test_each_w2_session_brings_the_news_published_since_the_one_before() -> None:
    def delivery(dataset: str, records: list[dict[str, str]]) -> Delivery:
        lines = [{**r, "line_number": n} for n, r in enumerate(records, 1)]
        return Delivery(dataset, "sim", lines, [], dataset)

    published = {  # in UTC: 12-26 21:00, 12-27 10:30, 12-30 01:00, 12-28, 12-31 02:00, 12-31 23:00
        "old": "2024-12-26T16:00:00-05:00",
        "friday": "2024-12-27T10:30:00+00:00",
        "overnight": "2024-12-29T20:00:00-05:00",
        "weekend": "2024-12-28T09:00:00+00:00",
        "late": "2024-12-31T02:00:00+00:00",
        "evening": "2024-12-31T23:00:00+00:00",
    }
    prices = delivery("prices_daily", [{"ticker": "A"}])
    articles = delivery(
        "news_articles", [{"article_id": a, "published_at": t} for a, t in published.items()]
    )
    scores = delivery("news_sentiment", [{"article_id": a, "ticker": "A"} for a in published])
    kept, held = hold_back_news(
        [prices, articles, scores], ["2024-12-27", "2024-12-30", "2024-12-31"]
    )
    assert kept[0] is prices
    assert [list(d.records) for d in kept[1:]] == [
        [{"article_id": "old", "published_at": published["old"], "line_number": 1}],
        [{"article_id": "old", "ticker": "A", "line_number": 1}],
    ]
    by_day = {day: [r["article_id"] for r in news["news_articles"]] for day, news in held.items()}
    assert by_day == {
        "2024-12-27": ["friday"],
        "2024-12-30": ["overnight", "weekend"],
        "2024-12-31": ["late", "evening"],
    }
    for news in held.values():  # each article's scores come with it, numbered from 1
        assert [r["article_id"] for r in news["news_sentiment"]] == [
            r["article_id"] for r in news["news_articles"]
        ]
        for lines in news.values():
            assert [r["line_number"] for r in lines] == list(range(1, len(lines) + 1))
