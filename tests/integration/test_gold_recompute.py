"""Every gold metric, recomputed independently with pandas from published silver."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from marketpulse.engine import EngineClient
from marketpulse.pipeline import BuildReport

METRICS = (
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
        b["return_1d"] = c / c.shift(1) - 1
        b["return_5d"] = c / c.shift(5) - 1
        b["return_21d"] = c / c.shift(21) - 1
        b["log_return_1d"] = np.log(c / c.shift(1))
        for n in (20, 50, 200):
            b[f"sma_{n}"] = c.rolling(n).mean()
        for span in (12, 26):
            b[f"ema_{span}"] = c.ewm(span=span, adjust=True).mean()
        b["volatility_21d_annualised"] = b["log_return_1d"].rolling(21).std() * math.sqrt(252)
        b["drawdown"] = c / c.cummax() - 1
        b["high_52w"] = b["adj_high"].rolling(252, min_periods=1).max()
        b["low_52w"] = b["adj_low"].rolling(252, min_periods=1).min()
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
