"""Which months a build must rebuild: from what is new since the published version.

Silver's price tables change only in the months new deliveries touch (a bar's session; a
release's session; for a ticker's new bar, also the sessions since its last published bar,
which move an inferred listing span). A split (new, reached, or released without its jump),
an instrument change or a new calendar can change any month: those rebuild everything, as
does a missing predecessor (after a rollback, the batches only later versions read count as
new again).
The news tables read only the news datasets: while no news batch arrives and their suites
are those they passed (`suites_digest`), a build keeps the published ones (`carried`).
When one arrives they are built whole again, but with `log_batches` from the published
article deliveries beside the unread batches' (news_article_deliveries); news_sentiment
ranks the unread scores beside its published winners unless an article id it read maps
elsewhere now or a quarantined score has its article now, when it reads every score.
The logs (quarantine, restatements) are appended to whatever the window: a build logs the
rejections and restatements of the batches the published version has not read. A logged
record is final: the rules that read another dataset (a bar's session, a score's article)
can only stop firing, as sessions and articles only accumulate; a restatement compares a
delivery with the earlier ones of its key, so a price batch that landed before one already
read has the logs derived anew (and every delivered bar ranked again: a windowed build
otherwise ranks only the unread batches' bars beside the ones the published version serves).
Gold rebuilds from the earliest month any silver promotion since its own changed, and
from the earliest month whose news changed (news does not move silver's window: the news
tables are rebuilt whole when news arrives, so gold compares them with the version it was
built on).
A version built from other transform code (models, macros, seeds, or dbt_project.yml with
its vars, such as `sentiment_model`) is no base to keep months from: every month is rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from marketpulse.engine import EngineClient, quote
from marketpulse.publish import PublishManifest

# Deliveries that can change every month of the price tables.
REBUILDS_ALL = frozenset({"trading_sessions", "instruments"})
PRICE_TABLE = "silver.prices_daily"
# Append-only: a build adds the rejections and restatements of the batches it reads first.
LOGS = ("silver.quarantine", "silver.restatements")
GOLD_PRICE_TABLE = "gold.fct_ticker_daily"
NEWS_TABLES = ("silver.news_articles", "silver.news_sentiment")
NEWS_DATASETS = frozenset({"news_articles", "news_sentiment"})  # all the news tables read
# Silver's tables that read only the news datasets: unchanged while no news batch arrives.
NEWS_MODELS = (
    "silver.news_article_deliveries",
    "silver.news_article_tickers",
    "silver.news_articles",
    "silver.news_sentiment",
)
# What a layer's models compile from, relative to the dbt project (bronze staging models
# are ephemeral: they compile into silver's).
TRANSFORM_CODE = {
    "silver": ("dbt_project.yml", "macros", "seeds", "models/bronze", "models/silver"),
    "gold": ("dbt_project.yml", "macros", "seeds", "models/gold"),
}
CODE_SUFFIXES = frozenset({".sql", ".yml", ".yaml", ".csv"})
# Files there that change no table: dbt unit tests, test macros and the macros' docs.
UNIT_TESTS_SUFFIX = "__unit_tests.yml"
TEST_ONLY = ("macros/tests/", "macros/_macros.yml")
CODE_CHANGED = "the published version was built from other models, macros, seeds or vars"


@dataclass(frozen=True)
class RebuildWindow:
    rebuild_from: str | None  # yyyy-mm-01; None: rebuild every month
    reason: str
    inputs: dict[str, Any] = field(default_factory=dict)  # recorded in the manifest
    logs: tuple[str, ...] = ()  # the layer's append-only logs
    # The batches no published version read, all landed after the ones it read: the logs
    # append their records, a windowed build ranks their bars beside the published ones
    # (mp_read_deliveries), and the news tables start from the published deliveries and
    # scores (mp_log_batches). None: derive the logs anew from every batch, rank every
    # delivered bar, and read every news delivery.
    log_batches: tuple[str, ...] | None = None
    # Tables whose inputs and suites did not change: neither built nor gated; the new
    # version serves the published ones (qualified names).
    carried: tuple[str, ...] = ()

    @property
    def partition_range(self) -> str:
        return "all" if self.rebuild_from is None else f"trade_month >= {self.rebuild_from[:7]}"

    @property
    def appended_logs(self) -> tuple[str, ...]:
        """The logs this build appends to: promotion keeps their other published months."""
        return () if self.log_batches is None else self.logs

    @property
    def derived_logs(self) -> tuple[str, ...]:
        """The logs this build derives anew from all of bronze: served as built."""
        return self.logs if self.log_batches is None else ()

    @property
    def carried_models(self) -> tuple[str, ...]:
        """The carried tables' model names (unqualified), as dbt and the suites name them."""
        return tuple(t.split(".", 1)[1] for t in self.carried)

    def builds_whole(self, table: str) -> bool:
        """Whether this build rebuilds every partition of `table` (a qualified name), as
        `served_partitions` serves it: a log derived anew, or any table but an appended
        log when every month is rebuilt."""
        return table in self.derived_logs or (
            self.rebuild_from is None and table not in self.appended_logs
        )


def transform_code(project_dir: Path, layer: str) -> str:
    """A digest of the files a layer's models compile from: their SQL, configs, macros,
    seeds and the project's vars. A published version records it; one built from other
    code holds months this code would compute differently."""
    digest = hashlib.sha256()
    for root in TRANSFORM_CODE[layer]:
        path = project_dir / root
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            name = file.relative_to(project_dir).as_posix()
            changes_no_table = name.endswith(UNIT_TESTS_SUFFIX) or name.startswith(TEST_ONLY)
            if file.is_file() and file.suffix in CODE_SUFFIXES and not changes_no_table:
                digest.update(f"{name}\0".encode())
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def suites_digest(project_dir: Path, tables: Sequence[str]) -> str:
    """A digest of the expectation suites of `tables` (qualified names)."""
    digest = hashlib.sha256()
    for table in sorted(tables):
        suite = project_dir / "expectations" / f"{table.replace('.', '__', 1)}.json"
        digest.update(f"{suite.name}\0".encode() + suite.read_bytes() + b"\0")
    return digest.hexdigest()


def _month_start(day: date | str) -> str:
    return str(day)[:7] + "-01"


def _latest_month(manifest: PublishManifest, table: str) -> str | None:
    specs = manifest.partitions.get(table, {})
    return max(specs).split("=", 1)[1] + "-01" if specs else None


def _in(ids: Sequence[str]) -> str:
    return ", ".join(quote(i) for i in ids)


def silver_window(
    client: EngineClient,
    previous: PublishManifest | None,
    full_refresh: bool,
    code: str,
    news_suites: str,
) -> RebuildWindow:
    """`code`: the layer's `transform_code`; `news_suites`: the `suites_digest` of the news
    tables."""
    batches = client.query(
        "select batch_id, dataset, date_format(ingested_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') "
        "from bronze.batches"
    )
    inputs = {
        "transform_code": code,
        "news_suites": news_suites,
        "bronze_batches": sorted(b for b, _, _ in batches),
        "news_batches": sorted(b for b, d, _ in batches if d in NEWS_DATASETS),
    }
    whole = functools.partial(RebuildWindow, None, inputs=inputs, logs=LOGS)
    if full_refresh:
        return whole("--full-refresh")
    if previous is None:
        return whole("no silver version is published yet")
    if previous.inputs.get("transform_code") != code:
        return whole(CODE_CHANGED)
    consumed = set(previous.inputs.get("bronze_batches", []))
    if not consumed:
        return whole("the published version does not record its inputs")
    if consumed - set(inputs["bronze_batches"]):
        return whole("bronze batches the published version read are gone")
    new: dict[str, list[str]] = {}
    for batch_id, dataset, _ in batches:
        if batch_id not in consumed:
            new.setdefault(dataset, []).append(batch_id)
    unread = sorted(b for ids in new.values() for b in ids)
    # The logs append only to partitioned published logs, and in delivery order.
    appendable = set(LOGS) <= previous.partitions.keys() and not _read_out_of_order(
        batches, consumed
    )
    news_unchanged = (
        not NEWS_DATASETS & new.keys()
        and previous.inputs.get("news_suites") == news_suites
        and set(NEWS_MODELS) <= previous.tables.keys()
    )
    window = functools.partial(
        RebuildWindow,
        inputs=inputs,
        logs=LOGS,
        log_batches=tuple(unread) if appendable else None,
        carried=NEWS_MODELS if news_unchanged else (),
    )
    if REBUILDS_ALL & new.keys():
        return window(None, f"new {', '.join(sorted(REBUILDS_ALL & new.keys()))}")
    if "corporate_actions" in new and client.query(
        "select 1 from bronze.corporate_actions "
        f"where batch_id in ({_in(new['corporate_actions'])}) "
        "and lower(trim(action_type)) <> 'dividend' limit 1"
    ):
        return window(None, "a new split can adjust every earlier month")
    starts = []
    if "prices_daily" in new:
        earliest_bar, span_start, reaches_split = _new_price_facts(client, new["prices_daily"])
        if reaches_split:
            reason = "a split's ex-date is reached: it adjusts every earlier month"
            return window(None, reason)
        starts += [d for d in (earliest_bar, span_start) if d is not None]
    if "operator_releases" in new and client.query(
        "select 1 from bronze.operator_releases "
        f"where batch_id in ({_in(new['operator_releases'])}) "
        "and lower(trim(rule_id)) = 'split_without_jump' limit 1"
    ):
        reason = "a released split without a jump adjusts every earlier month"
        return window(None, reason)
    if "operator_releases" in new:
        starts += _dates(
            client,
            "select min(cast(trim(trade_date) as date)) from bronze.operator_releases "
            f"where batch_id in ({_in(new['operator_releases'])})",
        )
    if starts:
        return window(_month_start(min(starts)), "new deliveries")
    latest = _latest_month(previous, PRICE_TABLE)
    return window(latest, "nothing new for the price tables: the latest month")


def _read_out_of_order(batches: Sequence[tuple[Any, ...]], consumed: set[str]) -> bool:
    """Whether an unread price batch comes before one already read in delivery order (a
    repaired or resumed delivery keeps its first landing time). Its restatements would then
    re-sequence logged ones, so the logs must be derived anew to equal a full rebuild; and
    a published winner need not be the latest read delivery before it, so every delivered
    bar is ranked again."""
    read = [(at, b) for b, d, at in batches if d == "prices_daily" and b in consumed]
    unread = [(at, b) for b, d, at in batches if d == "prices_daily" and b not in consumed]
    return bool(read and unread) and min(unread) < max(read)


def _dates(client: EngineClient, sql: str) -> list[date]:
    value = _date(client.query(sql)[0][0])
    return [] if value is None else [value]


def _new_price_facts(
    client: EngineClient, batch_ids: list[str]
) -> tuple[date | None, date | None, bool]:
    """From one query over the new bars and each of their tickers' last published bar:
    - the earliest new bar's session;
    - the first session after such a ticker's last published bar: an inferred listing span
      (a ticker without an instruments record) stretches over the sessions in between;
    - whether a split's ex-date is reached: a split applies once its ticker has a bar on or
      after the ex-date (see prices_daily), re-adjusting all of that ticker's history."""
    row = client.query(
        "with new_bars as ("
        "  select upper(trim(ticker)) as ticker, cast(trim(trade_date) as date) as trade_date"
        f"  from bronze.prices_daily where batch_id in ({_in(batch_ids)})"
        "), by_ticker as ("
        "  select ticker, min(trade_date) as first_new, max(trade_date) as last_new"
        "  from new_bars group by ticker"
        "), last_published as ("
        "  select p.ticker, max(p.trade_date) as last_bar"
        f"  from {PRICE_TABLE} as p inner join by_ticker as n on p.ticker = n.ticker"
        "  group by p.ticker"
        ") select"
        " cast((select min(first_new) from by_ticker) as string),"
        " cast((select min(s.session_date) from last_published as l"
        "   inner join silver.trading_sessions as s"
        "   on s.exchange = 'XNYS' and s.session_date > l.last_bar) as string),"
        " (select count(*) > 0 from silver.corporate_actions as a"
        "   inner join by_ticker as n on a.ticker = n.ticker"
        "   left join last_published as l on a.ticker = l.ticker"
        "   where a.action_type = 'split' and a.ex_date <= n.last_new"
        "   and (l.last_bar is null or a.ex_date > l.last_bar))"
    )[0]
    earliest_bar, span_start, reaches_split = row
    return _date(earliest_bar), _date(span_start), bool(reaches_split)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value)[:10])


def gold_window(
    silver_history: Sequence[PublishManifest],
    previous: PublishManifest | None,
    full_refresh: bool,
    news_changes: Callable[[PublishManifest, PublishManifest], RebuildWindow | None],
    code: str,
) -> RebuildWindow:
    """`news_changes(built_on, current)`: the window the news changes between two silver
    versions need, None if the news did not change; `code`: the layer's `transform_code`."""
    silver = silver_history[-1] if silver_history else None
    inputs: dict[str, Any] = {"transform_code": code}
    if silver:
        inputs |= {"silver_run": silver.run_id, "silver_published_at": silver.published_at}
    if full_refresh:
        return RebuildWindow(None, "--full-refresh", inputs)
    if previous is None:
        return RebuildWindow(None, "no gold version is published yet", inputs)
    if previous.inputs.get("transform_code") != code:
        return RebuildWindow(None, CODE_CHANGED, inputs)
    built_on = next(
        (m for m in silver_history if m.published_at == previous.inputs.get("silver_published_at")),
        None,
    )
    if built_on is None or silver is None:
        return RebuildWindow(None, "the silver version gold was built on is unknown", inputs)
    since = [m for m in silver_history if m.published_at > built_on.published_at]
    if any(m.rebuild_from is None for m in since):
        return RebuildWindow(None, "silver rebuilt every month since", inputs)
    if since:
        starts = [m.rebuild_from for m in since if m.rebuild_from]
        price = RebuildWindow(min(starts), "silver months changed since")
    else:
        price = RebuildWindow(
            _latest_month(previous, GOLD_PRICE_TABLE), "silver unchanged: the latest month"
        )
    news = news_changes(built_on, silver) if since else None
    earliest = min(
        [w for w in (price, news) if w is not None],
        key=lambda w: "" if w.rebuild_from is None else w.rebuild_from,  # None: every month
    )
    return RebuildWindow(earliest.rebuild_from, earliest.reason, inputs)


def news_window(
    client: EngineClient, built_on: PublishManifest, current: PublishManifest
) -> RebuildWindow | None:
    """From one query comparing two silver versions of the news tables: the earliest
    publication date among articles added, removed or re-dated, and among articles whose
    scores changed. An article counts for a session on or after its publication date, so
    the month of that date is a safe start. Skipped when no news batch arrived since."""
    if "news_batches" in built_on.inputs and (
        built_on.inputs["news_batches"] == current.inputs.get("news_batches")
    ):
        return None
    locations = {}
    for name, manifest in (("old", built_on), ("new", current)):
        for table in NEWS_TABLES:
            location = manifest.tables.get(table)
            if location is None:
                return RebuildWindow(None, f"{table} of silver run {manifest.run_id} is unknown")
            if (
                location.startswith(("file:", "/"))
                and not Path(location.removeprefix("file:")).exists()
            ):
                reason = f"{table} of silver run {manifest.run_id} is garbage-collected"
                return RebuildWindow(None, reason)
            locations[name, table.split(".")[1]] = "parquet.`" + location.replace("`", "``") + "`"
    articles, scores = "news_articles", "news_sentiment"
    (earliest,) = client.query(
        f"with old_articles as (select article_id, published_at from {locations['old', articles]}"
        f"), new_articles as (select article_id, published_at from {locations['new', articles]}"
        "), changed_articles as ("
        "  select coalesce(n.article_id, o.article_id) as article_id"
        "  from old_articles as o full outer join new_articles as n"
        "  on o.article_id = n.article_id where not (o.published_at <=> n.published_at)"
        "), changed_scores as ("
        "  select coalesce(n.article_id, o.article_id) as article_id"
        f"  from {locations['old', scores]} as o full outer join {locations['new', scores]} as n"
        "  on o.article_id = n.article_id and o.ticker = n.ticker"
        "  and o.model_name = n.model_name"
        "  where not (o.score <=> n.score and o.label <=> n.label)"
        "), changed as ("
        "  select article_id from changed_articles union select article_id from changed_scores"
        ") select cast(min(to_date(least(o.published_at, n.published_at))) as string)"
        " from changed as c left join old_articles as o on c.article_id = o.article_id"
        " left join new_articles as n on c.article_id = n.article_id"
    )[0]
    if earliest is None:
        return None
    return RebuildWindow(_month_start(earliest), f"news changed from {earliest} on")
