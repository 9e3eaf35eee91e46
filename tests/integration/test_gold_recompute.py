"""Every gold metric, recomputed independently with pandas from published silver."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from marketpulse.engine import EngineClient
from marketpulse.pipeline import BuildReport

METRICS = (
    "session_number",
    "adj_close",
    "adj_volume",
    "return_1d",
    "return_5d",
    "return_21d",
    "log_return_1d",
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "volatility_21d_annualised",
    "running_peak_close",
    "drawdown",
    "high_52w",
    "low_52w",
    "volume_zscore_20",
)


def _frame(client: EngineClient, sql: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(client.query(sql), columns=columns)


def _expected(silver: pd.DataFrame) -> pd.DataFrame:
    out = []
    for _, bars in silver.sort_values(["ticker", "trade_date"]).groupby("ticker"):
        b = bars.copy()
        c = b["adj_close"]
        b["session_number"] = np.arange(1, len(b) + 1)
        b["return_1d"] = c / c.shift(1) - 1
        b["return_5d"] = c / c.shift(5) - 1
        b["return_21d"] = c / c.shift(21) - 1
        b["log_return_1d"] = np.log(c / c.shift(1))
        for n in (20, 50, 200):
            b[f"sma_{n}"] = c.rolling(n).mean()
        for span in (12, 26):
            b[f"ema_{span}"] = c.ewm(span=span, adjust=True).mean()
        b["volatility_21d_annualised"] = b["log_return_1d"].rolling(21).std() * math.sqrt(252)
        b["running_peak_close"] = c.cummax()
        b["drawdown"] = c / b["running_peak_close"] - 1
        b["high_52w"] = b["adj_high"].rolling(252, min_periods=1).max()
        b["low_52w"] = b["adj_low"].rolling(252, min_periods=1).min()
        prior_high = b["adj_high"].shift(1).rolling(251, min_periods=1).max()
        prior_low = b["adj_low"].shift(1).rolling(251, min_periods=1).min()
        b["is_new_52w_high"] = (b["adj_high"] > prior_high).astype(float)
        b["is_new_52w_low"] = (b["adj_low"] < prior_low).astype(float)
        prior = b["adj_volume"].shift(1).rolling(20)
        std = prior.std()
        b["volume_zscore_20"] = ((b["adj_volume"] - prior.mean()) / std).where(std > 0)
        out.append(b)
    return pd.concat(out)


def test_gold_metrics_match_an_independent_recomputation(
    client: EngineClient, default_run: BuildReport
) -> None:
    assert not default_run.blocked
    silver = _frame(
        client,
        "select ticker, cast(trade_date as string), adj_close, adj_high, adj_low, adj_volume "
        "from silver.prices_daily",
        ["ticker", "trade_date", "adj_close", "adj_high", "adj_low", "adj_volume"],
    )
    gold = _frame(
        client,
        f"select ticker, cast(trade_date as string), {', '.join(METRICS)} "
        "from gold.fct_ticker_daily",
        ["ticker", "trade_date", *METRICS],
    )
    assert len(silver) > 0 and len(gold) == len(silver)
    merged = gold.merge(_expected(silver), on=["ticker", "trade_date"], suffixes=("", "_pd"))
    assert len(merged) == len(gold)
    for metric in METRICS:
        got = merged[metric].astype(float).to_numpy()
        want = merged[f"{metric}_pd"].astype(float).to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{metric}: nulls differ"
        both = ~np.isnan(want)
        np.testing.assert_allclose(got[both], want[both], rtol=1e-9, atol=1e-12, err_msg=metric)


def test_sentiment_is_assigned_point_in_time(
    client: EngineClient, default_run: BuildReport
) -> None:
    """Each article counts for the first session closing after it: recomputed with pandas."""
    sessions = _frame(
        client,
        "select cast(session_date as string), cast(close_at as string) "
        "from silver.trading_sessions where exchange = 'XNYS'",
        ["trade_date", "close_at"],
    )
    scored = _frame(
        client,
        "select s.ticker, s.score, s.label, cast(a.published_at as string) "
        "from silver.news_sentiment as s inner join silver.news_articles as a "
        "on s.article_id = a.article_id where s.model_name = 'vader'",
        ["ticker", "score", "label", "published_at"],
    )
    sessions["close_at"] = pd.to_datetime(sessions["close_at"])
    sessions = sessions.sort_values("close_at").reset_index(drop=True)
    scored["published_at"] = pd.to_datetime(scored["published_at"])
    # First close strictly after publication.
    position = np.searchsorted(
        sessions["close_at"].to_numpy(), scored["published_at"].to_numpy(), side="right"
    )
    # News after the calendar's last close has no session yet and is not counted.
    scored = scored[position < len(sessions)].copy()
    scored["trade_date"] = sessions["trade_date"].to_numpy()[position[position < len(sessions)]]
    on_session_day = scored["published_at"].dt.strftime("%Y-%m-%d") == scored["trade_date"]
    assert (~on_session_day).sum() > 0 and on_session_day.sum() > 0  # both cases exercised
    assert (scored["published_at"].dt.dayofweek >= 5).any()  # weekend news exists

    expected = (
        scored.groupby(["ticker", "trade_date"])
        .agg(
            article_count=("score", "size"),
            mean_score=("score", "mean"),
            min_score=("score", "min"),
            max_score=("score", "max"),
            positive_share=("label", lambda s: (s == "positive").mean()),
        )
        .reset_index()
    )
    gold = _frame(
        client,
        "select ticker, cast(trade_date as string), article_count, mean_score, min_score, "
        "max_score, positive_share from gold.fct_ticker_sentiment_daily",
        [
            "ticker",
            "trade_date",
            "article_count",
            "mean_score",
            "min_score",
            "max_score",
            "positive_share",
        ],
    )
    merged = gold.merge(
        expected, on=["ticker", "trade_date"], how="outer", suffixes=("", "_pd"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["article_count"] == merged["article_count_pd"]).all()
    for metric in ("mean_score", "min_score", "max_score", "positive_share"):
        np.testing.assert_allclose(
            merged[metric].astype(float),
            merged[f"{metric}_pd"].astype(float),
            rtol=1e-9,
            atol=1e-12,
            err_msg=metric,
        )


def test_market_and_sector_marts_match_an_independent_recomputation(
    client: EngineClient, default_run: BuildReport
) -> None:
    """Breadth, volume and coverage per session and per (sector, session), from silver."""
    assert not default_run.blocked
    silver = _frame(
        client,
        "select ticker, cast(trade_date as string), adj_close, adj_high, adj_low, adj_volume, "
        "volume from silver.prices_daily",
        ["ticker", "trade_date", "adj_close", "adj_high", "adj_low", "adj_volume", "volume"],
    )
    days = _expected(silver)
    instruments = _frame(
        client,
        "select ticker, sector, cast(listed_date as string), cast(delisted_date as string) "
        "from silver.instruments",
        ["ticker", "sector", "listed", "delisted"],
    )
    spans = silver.groupby("ticker")["trade_date"].agg(["min", "max"]).reset_index()
    inferred = spans[~spans["ticker"].isin(instruments["ticker"])]
    listings = pd.concat(
        [
            instruments,
            pd.DataFrame(
                {
                    "ticker": inferred["ticker"],
                    "sector": "unknown",
                    "listed": inferred["min"],
                    "delisted": inferred["max"],
                }
            ),
        ]
    )
    sessions = [
        s
        for (s,) in client.query(
            "select cast(session_date as string) from silver.trading_sessions "
            "where exchange = 'XNYS'"
        )
        if silver["trade_date"].min() <= s <= silver["trade_date"].max()
    ]
    r = days["return_1d"]
    days = days.assign(up=r > 0, down=r < 0, flat=r == 0)
    per_day = days.groupby("trade_date").agg(
        advancers=("up", "sum"),
        decliners=("down", "sum"),
        unchanged=("flat", "sum"),
        total_volume=("volume", "sum"),
        equal_weight_return=("return_1d", "mean"),
        new_52w_highs=("is_new_52w_high", "sum"),
        new_52w_lows=("is_new_52w_low", "sum"),
        tickers_present=("ticker", "size"),
    )
    listed = listings["listed"].to_numpy()
    delisted = listings["delisted"].fillna("9999-12-31").to_numpy()
    expected = {s: int(((listed <= s) & (s <= delisted)).sum()) for s in sessions}
    market_columns = [*per_day.columns, "tickers_expected"]
    market = {
        row[0]: row[1:]
        for row in client.query(
            f"select cast(trade_date as string), {', '.join(market_columns)} "
            "from gold.fct_market_daily"
        )
    }
    assert sorted(market) == sessions
    for session in sessions:
        got = dict(zip(market_columns, market[session], strict=True))
        assert got["tickers_expected"] == expected[session], session
        if session not in per_day.index:
            assert got["tickers_present"] == 0, session
            continue
        want = per_day.loc[session]
        for column in per_day.columns:
            if pd.isna(want[column]):
                assert got[column] is None, (session, column)
            else:
                assert math.isclose(
                    got[column], float(want[column]), rel_tol=1e-9, abs_tol=1e-12
                ), (
                    session,
                    column,
                )

    sectors = days.merge(listings[["ticker", "sector"]], on="ticker")
    by_sector = sectors.groupby(["sector", "trade_date"]).agg(
        tickers_present=("ticker", "size"),
        equal_weight_return=("return_1d", "mean"),
        advancers=("up", "sum"),
        decliners=("down", "sum"),
        total_volume=("volume", "sum"),
        with_return=("return_1d", "count"),
    )
    by_sector["market_breadth"] = (by_sector["advancers"] - by_sector["decliners"]) / by_sector[
        "with_return"
    ].where(by_sector["with_return"] > 0)
    sector_columns = [
        "tickers_present",
        "equal_weight_return",
        "advancers",
        "decliners",
        "total_volume",
        "market_breadth",
    ]
    gold = {
        (row[0], row[1]): row[2:]
        for row in client.query(
            f"select sector, cast(trade_date as string), {', '.join(sector_columns)} "
            "from gold.fct_sector_daily"
        )
    }
    assert sorted(gold) == sorted(by_sector.index)
    for key, values in gold.items():
        want = by_sector.loc[key]
        for column, got in zip(sector_columns, values, strict=True):
            if pd.isna(want[column]):
                assert got is None, (key, column)
            else:
                assert math.isclose(got, float(want[column]), rel_tol=1e-9, abs_tol=1e-12), (
                    key,
                    column,
                )


def _rolling_corr(x: np.ndarray, y: np.ndarray, rows: int) -> np.ndarray:
    """Pearson correlation over the last `rows` rows, pairs with a missing side skipped, as
    Spark's `corr`: NULL without two pairs or with a constant side (NaN here)."""
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        a, b = x[max(0, i - rows + 1) : i + 1], y[max(0, i - rows + 1) : i + 1]
        both = ~np.isnan(a) & ~np.isnan(b)
        if both.sum() >= 2:
            a, b = a[both] - a[both].mean(), b[both] - b[both].mean()
            with np.errstate(invalid="ignore", divide="ignore"):
                out[i] = (a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum())
    return out


def test_sentiment_signal_matches_an_independent_recomputation(
    client: EngineClient, default_run: BuildReport
) -> None:
    """The session's sentiment beside the next session's return, and their rolling
    63-session correlation, from the published daily facts."""
    assert not default_run.blocked
    days = _frame(
        client,
        "select ticker, cast(trade_date as string), return_1d from gold.fct_ticker_daily",
        ["ticker", "trade_date", "return_1d"],
    )
    sentiment = _frame(
        client,
        "select ticker, cast(trade_date as string), article_count, mean_score "
        "from gold.fct_ticker_sentiment_daily",
        ["ticker", "trade_date", "article_count", "mean_score"],
    )
    expected = days.merge(sentiment, on=["ticker", "trade_date"], how="left")
    expected = expected.sort_values(["ticker", "trade_date"]).reset_index(drop=True)
    expected["next_return_1d"] = expected.groupby("ticker")["return_1d"].shift(-1)
    expected["corr"] = np.nan
    for _, rows in expected.groupby("ticker"):
        expected.loc[rows.index, "corr"] = _rolling_corr(
            rows["mean_score"].astype(float).to_numpy(),
            rows["next_return_1d"].astype(float).to_numpy(),
            63,
        )
    gold = _frame(
        client,
        "select ticker, cast(trade_date as string), article_count, mean_score, "
        "next_return_1d, sentiment_return_corr_63 from gold.fct_sentiment_signal",
        ["ticker", "trade_date", "article_count", "mean_score", "next_return_1d", "corr"],
    )
    merged = gold.merge(
        expected, on=["ticker", "trade_date"], how="outer", suffixes=("", "_pd"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert merged["corr_pd"].notna().sum() > 100  # correlations are really compared
    for column in ("article_count", "mean_score", "next_return_1d", "corr"):
        got = merged[column].astype(float).to_numpy()
        want = merged[f"{column}_pd"].astype(float).to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{column}: nulls differ"
        both = ~np.isnan(want)
        np.testing.assert_allclose(got[both], want[both], rtol=1e-7, atol=1e-9, err_msg=column)
