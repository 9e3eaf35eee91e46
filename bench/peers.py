"""What a user would build instead: the price path (bronze prices + splits -> split-adjusted
silver -> gold `fct_ticker_daily`) as hand-written DuckDB SQL and as a hand-written PySpark
job, reading the same bronze files. Their gold numbers are compared with the project's
published `gold.fct_ticker_daily` before their times count.

The peers implement the clean path only (latest delivery wins, split adjustment, the gold
metrics); they route nothing to quarantine and hold nothing, which on the simulator's clean
data changes no number.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

KEY = ["ticker", "trade_date"]
COMPARED = [
    "adj_close",
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
    "is_new_52w_high",
    "is_new_52w_low",
]
EMA_WINDOW = 400  # as models/gold/fct_ticker_daily.sql
EMA_SPANS = (12, 26)


def _decay(span: int) -> float:
    return 1 - 2 / (span + 1)


# The row's block of EMA_WINDOW rows, from 0 (n counts from 1).
_DUCKDB_BLOCK = f"((n - 1) // {EMA_WINDOW})"


def _duckdb_ema_weighted(span: int) -> str:
    """The window-sum EMA of macros/finance/mp_ema.sql, in DuckDB: each value weighted
    towards the next even and the next odd block's anchor."""
    block = _DUCKDB_BLOCK
    return ", ".join(
        f"pow({_decay(span)!r}, ({block} + {shift}) * {EMA_WINDOW} + 1 - n) * adj_close "
        f"as e{span}_{parity}"
        for parity, shift in (("even", f"{block} % 2"), ("odd", f"1 - {block} % 2"))
    )


def _duckdb_ema_sums(span: int) -> str:
    return ", ".join(
        f"sum(e{span}_{parity}) over (w rows {EMA_WINDOW - 1} preceding) as e{span}_{parity}_sum"
        for parity in ("even", "odd")
    )


def _duckdb_ema(span: int) -> str:
    decay, block = _decay(span), _DUCKDB_BLOCK
    return (
        f"pow({decay!r}, n - ({block} * {EMA_WINDOW} + 1)) * (case when {block} % 2 = 0 "
        f"then e{span}_even_sum else e{span}_odd_sum end) "
        f"/ ((1 - pow({decay!r}, least(n, {EMA_WINDOW}))) / {1 - decay!r}) as ema_{span}"
    )


@dataclass(frozen=True)
class BronzeFiles:
    """Committed bronze CSV parts with their batch ids and delivery times."""

    prices: list[tuple[str, str, str]]  # (path, batch_id, ingested_at)
    actions: list[tuple[str, str, str]]

    @classmethod
    def of(cls, raw: Path) -> BronzeFiles:
        def parts(dataset: str) -> list[tuple[str, str, str]]:
            found = []
            for manifest in sorted((raw / dataset).glob("source=*/*/*/_manifest.json")):
                m = json.loads(manifest.read_text())
                for part in sorted(manifest.parent.glob("part-*.csv")):
                    found.append((str(part), m["batch_id"], m["ingested_at"]))
            return found

        return cls(prices=parts("prices_daily"), actions=parts("corporate_actions"))


# --- DuckDB ----------------------------------------------------------------------------------
def _duckdb_sources(files: BronzeFiles) -> str:
    def union(rows: list[tuple[str, str, str]], columns: str) -> str:
        return " union all ".join(
            f"select *, '{batch}' as batch_id, timestamptz '{at}' as ingested_at "
            f"from read_csv('{path}', header=true, all_varchar=true, columns={columns})"
            for path, batch, at in rows
        )

    prices_cols = (
        "{'line_number':'VARCHAR','ticker':'VARCHAR','trade_date':'VARCHAR','open':'VARCHAR',"
        "'high':'VARCHAR','low':'VARCHAR','close':'VARCHAR','adj_close':'VARCHAR',"
        "'volume':'VARCHAR'}"
    )
    action_cols = (
        "{'line_number':'VARCHAR','ticker':'VARCHAR','ex_date':'VARCHAR',"
        "'action_type':'VARCHAR','split_ratio':'VARCHAR','dividend_amount':'VARCHAR'}"
    )
    return (
        f"create or replace view bronze_prices as {union(files.prices, prices_cols)};\n"
        f"create or replace view bronze_actions as {union(files.actions, action_cols)};\n"
    )


DUCKDB_TRANSFORM = f"""
create or replace table silver_prices as
with typed as (
    select upper(trim(ticker)) as ticker, cast(trim(trade_date) as date) as trade_date,
        cast(open as double) as open, cast(high as double) as high,
        cast(low as double) as low, cast(close as double) as close,
        cast(volume as bigint) as volume, batch_id, ingested_at,
        cast(line_number as bigint) as line_number
    from bronze_prices
),
latest as (
    select * from typed
    qualify row_number() over (
        partition by ticker, trade_date
        order by ingested_at desc, batch_id desc, line_number desc) = 1
),
splits as (
    select ticker, cast(ex_date as date) as ex_date, cast(split_ratio as double) as ratio
    from bronze_actions where trim(action_type) = 'split'
    qualify row_number() over (
        partition by ticker, ex_date order by ingested_at desc, batch_id desc,
        cast(line_number as bigint) desc) = 1
),
last_sessions as (select ticker, max(trade_date) as last_date from latest group by ticker),
factors as (
    select l.ticker, l.trade_date, product(1 / s.ratio) as adj_factor
    from latest l join last_sessions ls using (ticker)
    join splits s on l.ticker = s.ticker and l.trade_date < s.ex_date
        and ls.last_date >= s.ex_date
    group by l.ticker, l.trade_date
)
select l.ticker, l.trade_date, l.close, l.volume,
    l.close * coalesce(f.adj_factor, 1) as adj_close,
    l.high * coalesce(f.adj_factor, 1) as adj_high,
    l.low * coalesce(f.adj_factor, 1) as adj_low,
    l.volume / coalesce(f.adj_factor, 1) as adj_volume
from latest l left join factors f using (ticker, trade_date);

create or replace table gold_ticker_daily as
with seq as (
    select *,
        lag(adj_close, 1) over w as c1, lag(adj_close, 5) over w as c5,
        lag(adj_close, 21) over w as c21, row_number() over w as n
    from silver_prices window w as (partition by ticker order by trade_date)
),
ret as (
    select *, adj_close / c1 - 1 as return_1d, adj_close / c5 - 1 as return_5d,
        adj_close / c21 - 1 as return_21d, ln(adj_close / c1) as log_return_1d,
        {", ".join(_duckdb_ema_weighted(span) for span in EMA_SPANS)}
    from seq
),
win as (
    select *,
        avg(adj_close) over (w rows 19 preceding) as sma20,
        avg(adj_close) over (w rows 49 preceding) as sma50,
        avg(adj_close) over (w rows 199 preceding) as sma200,
        {", ".join(_duckdb_ema_sums(span) for span in EMA_SPANS)},
        stddev_samp(log_return_1d) over (w rows 20 preceding) as sd21,
        count(log_return_1d) over (w rows 20 preceding) as n21,
        max(adj_close) over (w rows unbounded preceding) as peak,
        max(adj_high) over (w rows 251 preceding) as high_52w,
        min(adj_low) over (w rows 251 preceding) as low_52w,
        max(adj_high) over (w rows between 251 preceding and 1 preceding) as prior_high,
        min(adj_low) over (w rows between 251 preceding and 1 preceding) as prior_low,
        avg(adj_volume) over (w rows between 20 preceding and 1 preceding) as vmean,
        stddev_samp(adj_volume) over (w rows between 20 preceding and 1 preceding) as vsd
    from ret window w as (partition by ticker order by trade_date)
)
select ticker, trade_date, adj_close, return_1d, return_5d, return_21d, log_return_1d,
    high_52w, low_52w,
    case when n >= 20 then sma20 end as sma_20,
    case when n >= 50 then sma50 end as sma_50,
    case when n >= 200 then sma200 end as sma_200,
    {", ".join(_duckdb_ema(span) for span in EMA_SPANS)},
    case when n21 = 21 then sd21 * sqrt(252) end as volatility_21d_annualised,
    adj_close / peak - 1 as drawdown,
    coalesce(adj_high > prior_high, false) as is_new_52w_high,
    coalesce(adj_low < prior_low, false) as is_new_52w_low,
    case when n > 20 and vsd > 0 then (adj_volume - vmean) / vsd end as volume_zscore_20
from win;
"""


def run_duckdb(files: BronzeFiles, threads: int) -> tuple[float, pd.DataFrame]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    started = time.perf_counter()
    con.execute(_duckdb_sources(files) + DUCKDB_TRANSFORM)
    elapsed = time.perf_counter() - started
    return elapsed, con.execute("select * from gold_ticker_daily").df()


# --- PySpark ---------------------------------------------------------------------------------
def run_pyspark(files: BronzeFiles, cores: int, memory: str) -> tuple[float, pd.DataFrame]:
    """A hand-written job in its own local Spark session (session start-up not counted)."""
    from pyspark.sql import SparkSession, Window
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("marketpulse-bench-peer")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    try:
        started = time.perf_counter()

        def read(rows: list[tuple[str, str, str]]) -> Any:
            frames = [
                spark.read.option("header", True)
                .csv(path)
                .withColumn("batch_id", F.lit(batch))
                .withColumn("ingested_at", F.lit(at).cast("timestamp"))
                for path, batch, at in rows
            ]
            out = frames[0]
            for frame in frames[1:]:
                out = out.unionByName(frame)
            return out

        latest_first = Window.partitionBy("ticker", "trade_date").orderBy(
            F.desc("ingested_at"), F.desc("batch_id"), F.desc("line_number")
        )
        prices = (
            read(files.prices)
            .select(
                F.upper(F.trim("ticker")).alias("ticker"),
                F.to_date(F.trim("trade_date")).alias("trade_date"),
                *(F.col(c).cast("double").alias(c) for c in ("high", "low", "close")),
                F.col("volume").cast("bigint").alias("volume"),
                "batch_id",
                "ingested_at",
                F.col("line_number").cast("bigint").alias("line_number"),
            )
            .withColumn("rank", F.row_number().over(latest_first))
            .where("rank = 1")
        )
        split_first = Window.partitionBy("ticker", "ex_date").orderBy(
            F.desc("ingested_at"), F.desc("batch_id"), F.desc(F.col("line_number").cast("int"))
        )
        splits = (
            read(files.actions)
            .where(F.trim("action_type") == "split")
            .withColumn("ex_date", F.to_date("ex_date"))
            .withColumn("rank", F.row_number().over(split_first))
            .where("rank = 1")
            .select("ticker", "ex_date", F.col("split_ratio").cast("double").alias("ratio"))
        )
        last = prices.groupBy("ticker").agg(F.max("trade_date").alias("last_date"))
        factors = (
            prices.join(last, "ticker")
            .join(splits, "ticker")
            .where("trade_date < ex_date and last_date >= ex_date")
            .groupBy("ticker", "trade_date")
            .agg(
                F.aggregate(
                    F.array_sort(F.collect_list("ratio")), F.lit(1.0), lambda f, r: f / r
                ).alias("f")
            )
        )
        silver = prices.join(factors, KEY, "left").select(
            *KEY,
            (F.col("close") * F.coalesce("f", F.lit(1.0))).alias("adj_close"),
            (F.col("high") * F.coalesce("f", F.lit(1.0))).alias("adj_high"),
            (F.col("low") * F.coalesce("f", F.lit(1.0))).alias("adj_low"),
            (F.col("volume") / F.coalesce("f", F.lit(1.0))).alias("adj_volume"),
        )
        w = Window.partitionBy("ticker").orderBy("trade_date")

        def rows(a: int, b: int) -> Any:
            return w.rowsBetween(a, b)

        c = F.col("adj_close")
        gold = (
            silver.withColumn("n", F.row_number().over(w))
            .withColumn("return_1d", c / F.lag(c, 1).over(w) - 1)
            .withColumn("return_5d", c / F.lag(c, 5).over(w) - 1)
            .withColumn("return_21d", c / F.lag(c, 21).over(w) - 1)
            .withColumn("log_return_1d", F.log(c / F.lag(c, 1).over(w)))
            .select("*", *(term for span in EMA_SPANS for term in _ema_weighted(F, span)))
            .select(
                "*",
                *(
                    F.when(F.col("n") >= k, F.avg(c).over(rows(-(k - 1), 0))).alias(f"sma_{k}")
                    for k in (20, 50, 200)
                ),
                *(_ema(F, span, rows(-(EMA_WINDOW - 1), 0)) for span in EMA_SPANS),
                F.when(
                    F.count("log_return_1d").over(rows(-20, 0)) == 21,
                    F.stddev_samp("log_return_1d").over(rows(-20, 0)) * math.sqrt(252),
                ).alias("volatility_21d_annualised"),
                (c / F.max(c).over(w.rowsBetween(Window.unboundedPreceding, 0)) - 1).alias(
                    "drawdown"
                ),
                F.max("adj_high").over(rows(-251, 0)).alias("high_52w"),
                F.min("adj_low").over(rows(-251, 0)).alias("low_52w"),
                F.coalesce(
                    F.col("adj_high") > F.max("adj_high").over(rows(-251, -1)), F.lit(False)
                ).alias("is_new_52w_high"),
                F.coalesce(
                    F.col("adj_low") < F.min("adj_low").over(rows(-251, -1)), F.lit(False)
                ).alias("is_new_52w_low"),
                F.when(
                    (F.col("n") > 20) & (F.stddev_samp("adj_volume").over(rows(-20, -1)) > 0),
                    (F.col("adj_volume") - F.avg("adj_volume").over(rows(-20, -1)))
                    / F.stddev_samp("adj_volume").over(rows(-20, -1)),
                ).alias("volume_zscore_20"),
            )
            .select(*KEY, *COMPARED)
        )
        gold.write.mode("overwrite").format("noop").save()
        elapsed = time.perf_counter() - started
        return elapsed, gold.toPandas()
    finally:
        spark.stop()


def _block(F: Any) -> Any:
    return F.floor((F.col("n") - 1) / EMA_WINDOW)


def _ema_weighted(F: Any, span: int) -> list[Any]:
    """The window-sum EMA of macros/finance/mp_ema.sql: each value weighted towards the
    next even and the next odd block's anchor."""
    block = _block(F)
    return [
        (
            F.pow(F.lit(_decay(span)), (block + shift) * EMA_WINDOW + 1 - F.col("n"))
            * F.col("adj_close")
        ).alias(f"e{span}_{parity}")
        for parity, shift in (("even", block % 2), ("odd", 1 - block % 2))
    ]


def _ema(F: Any, span: int, frame: Any) -> Any:
    decay, block = _decay(span), _block(F)
    summed = F.when(block % 2 == 0, F.sum(f"e{span}_even").over(frame)).otherwise(
        F.sum(f"e{span}_odd").over(frame)
    )
    weights = (1 - F.pow(F.lit(decay), F.least(F.col("n"), F.lit(EMA_WINDOW)))) / (1 - decay)
    return (F.pow(F.lit(decay), F.col("n") - (block * EMA_WINDOW + 1)) * summed / weights).alias(
        f"ema_{span}"
    )


# --- the check that makes a peer's time count ----------------------------------------------
def mismatches(project: pd.DataFrame, peer: pd.DataFrame, rtol: float = 1e-9) -> list[str]:
    """Differences between two fct_ticker_daily frames: missing keys, or a value off by more
    than `rtol` relative (NULLs must match NULLs)."""

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        dates = pd.to_datetime(frame.trade_date).dt.strftime("%Y-%m-%d")
        return frame.assign(trade_date=dates).set_index(KEY).sort_index()

    a, b = keyed(project), keyed(peer)
    problems = []
    if not a.index.equals(b.index):
        problems.append(f"keys differ: project {len(a)} rows, peer {len(b)} rows")
        return problems
    for column in COMPARED:
        x = pd.to_numeric(a[column].astype("float64"), errors="coerce")
        y = pd.to_numeric(b[column].astype("float64"), errors="coerce")
        null_mismatch = int((x.isna() != y.isna()).sum())
        both = x.notna() & y.notna()
        scale = x[both].abs().clip(lower=1e-300)
        off = int(((x[both] - y[both]).abs() > rtol * scale + 1e-12).sum())
        if null_mismatch or off:
            problems.append(f"{column}: {null_mismatch} NULL mismatches, {off} values off")
    return problems
