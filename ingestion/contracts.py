"""Bronze data contracts: what each feed delivers, column by column.

Bronze keeps values exactly as delivered (text); silver interprets them. Every bronze record
also carries `line_number`, its position in the delivery (1 = first record after any header),
so a rejected row can be traced back to the file it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    required: bool = True
    spark_type: str = "string"  # bronze type; only lists are not plain text


@dataclass(frozen=True)
class Contract:
    dataset: str
    file_format: Literal["csv", "json"]
    columns: tuple[Column, ...]
    # Moves when the contract gains a column (appended last; bronze adds it to old lakes).
    schema_version: int = 1

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def part_name(self) -> str:
        return "part-00000." + ("csv" if self.file_format == "csv" else "jsonl")


LINE_NUMBER = Column("line_number", "Position of the record in its delivery (1-based).")

PRICES_DAILY = Contract(
    "prices_daily",
    "csv",
    (
        LINE_NUMBER,
        Column("ticker", "Ticker symbol as delivered."),
        Column("trade_date", "Session date, ISO yyyy-mm-dd."),
        Column("open", "Opening price, unadjusted."),
        Column("high", "Session high, unadjusted."),
        Column("low", "Session low, unadjusted."),
        Column("close", "Closing price, unadjusted."),
        Column("adj_close", "The vendor's own adjusted close, when it sends one.", required=False),
        Column("volume", "Shares traded, unadjusted."),
    ),
)

CORPORATE_ACTIONS = Contract(
    "corporate_actions",
    "csv",
    (
        LINE_NUMBER,
        Column("ticker", "Ticker symbol as delivered."),
        Column("ex_date", "Ex-date, ISO yyyy-mm-dd."),
        Column("action_type", "`split` or `dividend`."),
        Column("split_ratio", "New shares per old share (2 = a 2-for-1 split).", required=False),
        Column("dividend_amount", "Cash per share, in the listing currency.", required=False),
    ),
)

INSTRUMENTS = Contract(
    "instruments",
    "csv",
    (
        LINE_NUMBER,
        Column("ticker", "Ticker symbol."),
        Column("name", "Company name."),
        Column("sector", "GICS-style sector.", required=False),
        Column("industry", "Industry within the sector.", required=False),
        Column("exchange", "Listing exchange MIC, e.g. XNYS.", required=False),
        Column("listed_date", "First session, ISO date.", required=False),
        Column("delisted_date", "Last session, ISO date; empty while listed.", required=False),
    ),
)

NEWS_ARTICLES = Contract(
    "news_articles",
    "json",
    (
        LINE_NUMBER,
        Column("article_id", "The publisher's article identifier."),
        Column("published_at", "Publication time, ISO-8601 with a time zone."),
        Column("headline", "Headline."),
        Column("summary", "Body or summary.", required=False),
        Column("publisher", "News outlet."),
        Column("url", "Canonical URL.", required=False),
        Column("tickers", "Tickers the article mentions.", spark_type="array<string>"),
    ),
)

NEWS_SENTIMENT = Contract(
    "news_sentiment",
    "json",
    (
        LINE_NUMBER,
        Column("article_id", "Article scored."),
        Column("ticker", "Ticker the score is about."),
        Column("model_name", "Scoring model, e.g. vader."),
        Column("model_version", "Version of the model package."),
        Column("score", "Compound score in [-1, 1]."),
        Column("label", "positive, neutral or negative."),
    ),
)


# Lines of a delivery that could not even be read into its contract (wrong field count, bad
# encoding, malformed JSON). They sit beside the batch's records under the same partition
# values, and silver's quarantine reports them with the rest.
REJECTED_RECORDS = Contract(
    "rejected_records",
    "json",
    (
        LINE_NUMBER,
        Column("dataset", "The dataset the line was delivered for."),
        Column("rule_id", "Why it could not be read, e.g. csv_field_count."),
        Column("reason", "A sentence naming the problem."),
        Column("raw_record", "The line as delivered (bad bytes escaped).", required=False),
    ),
)

TRADING_SESSIONS = Contract(
    "trading_sessions",
    "csv",
    (
        LINE_NUMBER,
        Column("exchange", "Exchange MIC, e.g. XNYS."),
        Column("session_date", "Session date, ISO."),
        Column("open_at", "Session open, UTC ISO-8601."),
        Column("close_at", "Session close, UTC ISO-8601 (early on half days)."),
        Column("is_half_day", "true on an early-close session."),
    ),
)


# Decisions an operator records with `marketpulse release`: waive a rule for a named key
# (ticker and session), or for a named delivery (a batch-level rule: the quarantine rate).
OPERATOR_RELEASES = Contract(
    "operator_releases",
    "csv",
    (
        LINE_NUMBER,
        Column("ticker", "The ticker released (a key-level rule).", required=False),
        Column(
            "trade_date",
            "The session the rule fired on, e.g. the jump date (a key-level rule).",
            required=False,
        ),
        Column("rule_id", "The rule waived, e.g. split_like_jump."),
        Column("reason", "Why, in the operator's words."),
        Column("released_by", "Who decided."),
        # Last: files written before it existed read it as null (CSV maps columns by position).
        Column(
            "released_batch_id",
            "The delivery released (a batch-level rule: quarantine_rate).",
            required=False,
        ),
    ),
    schema_version=2,
)
# Rules an operator waives for a whole delivery rather than for a key.
BATCH_RULES = frozenset({"quarantine_rate"})

# Every feed that lands in bronze (rejected records are a by-product, not a feed).
CONTRACTS: dict[str, Contract] = {
    c.dataset: c
    for c in (
        PRICES_DAILY,
        CORPORATE_ACTIONS,
        INSTRUMENTS,
        NEWS_ARTICLES,
        NEWS_SENTIMENT,
        TRADING_SESSIONS,
        OPERATOR_RELEASES,
    )
}
