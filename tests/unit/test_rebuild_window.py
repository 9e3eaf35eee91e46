"""Gold's rebuild window from the silver promotions since the one it was built on, and
from the news changes since then; the batches silver's logs append."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from marketpulse.config import PROJECT_DIR
from marketpulse.incremental import (
    CODE_CHANGED,
    GOLD_PRICE_TABLE,
    LOGS,
    NEWS_MODELS,
    PRICE_TABLE,
    RebuildWindow,
    gold_window,
    news_window,
    silver_window,
    suites_digest,
    transform_code,
)
from marketpulse.publish import PublishManifest


def _silver(
    n: int, rebuild_from: str | None, news_batches: list[str] | None = None
) -> PublishManifest:
    return PublishManifest(
        layer="silver",
        run_id=f"s{n}",
        published_at=f"2026-01-0{n}T00:00:00",
        tables={},
        gate={},
        rebuild_from=rebuild_from,
        inputs={} if news_batches is None else {"news_batches": news_batches},
    )


CODE = "code-1"  # the transform code the published versions were built from
SUITES = "suites-1"  # the news tables' suites they passed


def _gold(built_on: PublishManifest) -> PublishManifest:
    return PublishManifest(
        layer="gold",
        run_id="g",
        published_at="2026-01-09T00:00:00",
        tables={},
        gate={},
        partitions={GOLD_PRICE_TABLE: {"trade_month=2024-05": "a", "trade_month=2024-06": "b"}},
        inputs={
            "transform_code": CODE,
            "silver_run": built_on.run_id,
            "silver_published_at": built_on.published_at,
        },
    )


def _no_news(built_on: PublishManifest, current: PublishManifest) -> None:
    return None


class NewsFrom:
    """News changes from a month on (None: not datable); records what it compared."""

    def __init__(self, month_start: str | None) -> None:
        self.month_start = month_start
        self.compared: tuple[str, str] | None = None

    def __call__(self, built_on: PublishManifest, current: PublishManifest) -> RebuildWindow:
        self.compared = (built_on.run_id, current.run_id)
        return RebuildWindow(self.month_start, "news")


def _from(
    history: list[PublishManifest], previous: PublishManifest | None, full_refresh: bool = False
) -> str | None:
    return gold_window(
        history, previous, full_refresh, news_changes=_no_news, code=CODE
    ).rebuild_from


def test_gold_rebuilds_from_the_earliest_month_silver_changed_since() -> None:
    history = [_silver(1, None), _silver(2, "2024-06-01"), _silver(3, "2024-04-01")]
    window = gold_window(
        history, _gold(history[0]), full_refresh=False, news_changes=_no_news, code=CODE
    )
    assert window.rebuild_from == "2024-04-01"
    assert window.inputs == {
        "transform_code": CODE,
        "silver_run": "s3",
        "silver_published_at": history[2].published_at,
    }
    assert (window.appended_logs, window.derived_logs) == ((), ())  # the logs are silver's


def test_a_full_silver_rebuild_or_rollback_since_rebuilds_every_gold_month() -> None:
    history = [_silver(1, "2024-06-01"), _silver(2, None), _silver(3, "2024-06-01")]
    assert _from(history, _gold(history[0])) is None


def test_unchanged_silver_rebuilds_only_golds_latest_month() -> None:
    history = [_silver(1, "2024-06-01")]
    assert _from(history, _gold(history[0])) == "2024-06-01"


def test_unknown_predecessors_and_full_refresh_rebuild_everything() -> None:
    history = [_silver(1, "2024-06-01")]
    assert _from(history, None) is None
    assert _from(history, _gold(_silver(7, None))) is None
    assert _from(history, _gold(history[0]), full_refresh=True) is None


def test_news_changed_before_the_silver_window_moves_gold_back_to_it() -> None:
    history = [_silver(1, None), _silver(2, "2024-06-01"), _silver(3, "2024-05-01")]
    news = NewsFrom("2024-02-01")
    window = gold_window(
        history, _gold(history[0]), full_refresh=False, news_changes=news, code=CODE
    )
    assert (window.rebuild_from, window.reason) == ("2024-02-01", "news")
    assert news.compared == ("s1", "s3")  # the version gold was built on vs the latest
    later = gold_window(
        history,
        _gold(history[0]),
        full_refresh=False,
        news_changes=NewsFrom("2024-06-01"),
        code=CODE,
    )
    assert later.rebuild_from == "2024-05-01"  # news after the silver window adds nothing
    unknown = gold_window(
        history, _gold(history[0]), full_refresh=False, news_changes=NewsFrom(None), code=CODE
    )
    assert unknown.rebuild_from is None  # news changes that cannot be dated: every month


def test_news_is_not_compared_when_silver_is_unchanged() -> None:
    history = [_silver(1, "2024-06-01")]
    news = NewsFrom("2024-01-01")
    window = gold_window(
        history, _gold(history[0]), full_refresh=False, news_changes=news, code=CODE
    )
    assert window.rebuild_from == "2024-06-01"
    assert news.compared is None


def test_gold_built_from_other_code_rebuilds_every_month() -> None:
    """A changed model, macro or var (such as `sentiment_model`) would leave the kept
    months computed the old way: the first build with the new code rebuilds them all."""
    history = [_silver(1, "2024-06-01")]
    window = gold_window(history, _gold(history[0]), False, _no_news, code="code-2")
    assert (window.rebuild_from, window.reason) == (None, CODE_CHANGED)
    assert window.inputs["transform_code"] == "code-2"  # what the next build compares with
    unrecorded = _gold(history[0])
    del unrecorded.inputs["transform_code"]  # published before the code was recorded
    assert _from(history, unrecorded) is None


class NoQueries:
    def query(self, sql: str) -> list[tuple[object, ...]]:
        raise AssertionError(f"unexpected query: {sql}")


def test_news_is_compared_only_when_news_batches_arrived() -> None:
    client: Any = NoQueries()
    same = news_window(client, _silver(1, "2024-06-01", ["n1"]), _silver(2, "2024-06-01", ["n1"]))
    assert same is None
    # New news batches, but the versions' news tables are not on record: every month.
    changed = news_window(
        client, _silver(1, "2024-06-01", ["n1"]), _silver(2, "2024-06-01", ["n1", "n2"])
    )
    assert changed is not None and changed.rebuild_from is None
    assert "silver.news_articles of silver run s1 is unknown" in changed.reason


class BatchesClient:
    """An engine that knows only bronze.batches."""

    def __init__(self, batches: list[tuple[str, str, str]]) -> None:
        self.batches = batches  # batch id, dataset, landed at

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        assert sql.startswith("select batch_id, dataset, date_format(ingested_at"), sql
        return self.batches


def _published_silver(partitioned_logs: tuple[str, ...] = LOGS) -> PublishManifest:
    return PublishManifest(
        layer="silver",
        run_id="s1",
        published_at="2026-01-01T00:00:00",
        tables={t: f"/lake/{t}/_v=s1" for t in (*NEWS_MODELS, PRICE_TABLE, *LOGS)},
        gate={},
        partitions={
            PRICE_TABLE: {"trade_month=2024-06": "p"},
            **{log: {"detected_month=2026-01": "q"} for log in partitioned_logs},
        },
        inputs={"transform_code": CODE, "news_suites": SUITES, "bronze_batches": ["b1", "b2"]},
    )


CONSUMED = [("b1", "prices_daily", "2026-01-01 10:00:00"), ("b2", "instruments", "2026-01-01")]
LATER = "2026-01-02 10:00:00"


def test_the_log_appends_the_batches_the_published_silver_has_not_read() -> None:
    client = BatchesClient(
        [*CONSUMED, ("b4", "instruments", LATER), ("b3", "news_sentiment", LATER)]
    )
    window = silver_window(client, _published_silver(), False, CODE, SUITES)  # type: ignore[arg-type]
    # New instruments rebuild every month of the price tables; the log still only appends.
    assert window.rebuild_from is None
    assert window.log_batches == ("b3", "b4")
    assert (window.appended_logs, window.derived_logs) == (LOGS, ())


def test_nothing_new_appends_nothing() -> None:
    window = silver_window(BatchesClient(CONSUMED), _published_silver(), False, CODE, SUITES)  # type: ignore[arg-type]
    assert window.rebuild_from == "2024-06-01"
    assert window.log_batches == ()


def test_the_log_is_derived_anew_on_full_refresh_or_from_an_unpartitioned_log() -> None:
    client = BatchesClient([*CONSUMED, ("b3", "instruments", LATER)])
    assert silver_window(client, _published_silver(), True, CODE, SUITES).log_batches is None  # type: ignore[arg-type]
    # Upgrading: a log published unpartitioned (the quarantine log before the
    # restatements log) is derived anew with the other, so both can be served as built.
    for partitioned in ((), LOGS[:1]):
        window = silver_window(client, _published_silver(partitioned), False, CODE, SUITES)  # type: ignore[arg-type]
        assert window.log_batches is None
        assert (window.appended_logs, window.derived_logs) == ((), LOGS)
    assert silver_window(client, None, False, CODE, SUITES).log_batches is None  # type: ignore[arg-type]


def test_a_price_batch_landed_before_one_already_read_derives_the_logs_anew() -> None:
    """A repaired delivery keeps its first landing time: its restatements come before
    logged ones in delivery order, which only a derivation from every batch gets right."""
    repaired = ("b0", "prices_daily", "2026-01-01 09:00:00")
    client = BatchesClient([*CONSUMED, repaired, ("b3", "instruments", LATER)])
    window = silver_window(client, _published_silver(), False, CODE, SUITES)  # type: ignore[arg-type]
    assert window.log_batches is None and window.derived_logs == LOGS
    in_order = ("b0", "prices_daily", LATER)
    client = BatchesClient([*CONSUMED, in_order, ("b3", "instruments", LATER)])
    assert silver_window(client, _published_silver(), False, CODE, SUITES).log_batches == (
        "b0",
        "b3",
    )  # type: ignore[arg-type]


def test_the_news_tables_are_carried_over_while_no_news_batch_arrives() -> None:
    """They read only the news datasets: a build without a news batch serves them as
    published, whatever it rebuilds of the price tables."""
    for new in ("instruments", "trading_sessions"):  # batches that rebuild every month
        client = BatchesClient([*CONSUMED, ("b3", new, LATER)])
        window = silver_window(client, _published_silver(), False, CODE, SUITES)  # type: ignore[arg-type]
        assert window.carried == NEWS_MODELS, new
    assert silver_window(BatchesClient(CONSUMED), _published_silver(), False, CODE, SUITES).carried  # type: ignore[arg-type]
    for news in ("news_articles", "news_sentiment"):
        client = BatchesClient([*CONSUMED, ("b3", news, LATER)])
        assert silver_window(client, _published_silver(), False, CODE, SUITES).carried == (), news  # type: ignore[arg-type]
    # Nothing to carry from, or a reason to rebuild everything: built like every table.
    client = BatchesClient(CONSUMED)
    assert silver_window(client, _published_silver(), True, CODE, SUITES).carried == ()  # type: ignore[arg-type]
    assert silver_window(client, _published_silver(), False, "code-2", SUITES).carried == ()  # type: ignore[arg-type]
    assert silver_window(client, None, False, CODE, SUITES).carried == ()  # type: ignore[arg-type]
    gone = BatchesClient(CONSUMED[:1])  # a batch the published version read was removed
    assert silver_window(gone, _published_silver(), False, CODE, SUITES).carried == ()  # type: ignore[arg-type]
    # A suite changed since: the news tables are built and checked against it.
    tightened = silver_window(client, _published_silver(), False, CODE, "suites-2")  # type: ignore[arg-type]
    assert tightened.carried == () and tightened.inputs["news_suites"] == "suites-2"
    without_news = _published_silver()
    del without_news.tables["silver.news_sentiment"]  # published before the table existed
    assert silver_window(client, without_news, False, CODE, SUITES).carried == ()  # type: ignore[arg-type]


def test_silver_built_from_other_code_rebuilds_every_month_and_derives_the_logs() -> None:
    client = BatchesClient([*CONSUMED, ("b3", "news_sentiment", LATER)])
    window = silver_window(client, _published_silver(), False, "code-2", SUITES)  # type: ignore[arg-type]
    assert (window.rebuild_from, window.reason) == (None, CODE_CHANGED)
    assert window.log_batches is None  # like --full-refresh: the rules may have changed
    assert window.inputs["transform_code"] == "code-2"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "models", project / "models")
    shutil.copytree(PROJECT_DIR / "macros", project / "macros")
    shutil.copytree(PROJECT_DIR / "seeds", project / "seeds")
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project)
    return project


def test_the_transform_code_is_what_each_layer_compiles_from(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = {layer: transform_code(project, layer) for layer in ("silver", "gold")}
    assert before == {layer: transform_code(PROJECT_DIR, layer) for layer in before}
    assert before["silver"] != before["gold"]

    def after(path: str, text: str, anchor: str = "") -> dict[str, str]:
        """The digests after `text` is added to a file (after `anchor`, or at its end)."""
        file = project / path
        content = file.read_text()
        at = content.index(anchor) + len(anchor) if anchor else len(content)
        file.write_text(content[:at] + text + content[at:])
        return {layer: transform_code(project, layer) for layer in ("silver", "gold")}

    # A gold model changes gold's code only.
    changed = after("models/gold/fct_ticker_daily.sql", "\n-- a change\n")
    assert changed["gold"] != before["gold"] and changed["silver"] == before["silver"]
    # A var in dbt_project.yml (gold reads `sentiment_model`) changes both layers' code.
    again = after("dbt_project.yml", "\n  sentiment_model: finbert", anchor="run_id: null")
    assert yaml.safe_load((project / "dbt_project.yml").read_text())["vars"] == {
        "run_id": None,
        "sentiment_model": "finbert",
    }
    assert again["gold"] != changed["gold"] and again["silver"] != changed["silver"]
    # A bronze staging model compiles into silver only.
    staged = after("models/bronze/stg_bronze__prices_daily.sql", "\n")
    assert staged["silver"] != again["silver"] and staged["gold"] == again["gold"]
    # Files that change no table: notes, dbt unit tests, test macros, the macros' docs.
    assert after("seeds/README.md", "notes\n") == staged
    assert after("models/silver/_silver__unit_tests.yml", "\n") == staged
    assert after("macros/tests/mp_unique_combination.sql", "\n") == staged
    assert after("macros/_macros.yml", "\n") == staged


def test_the_news_suites_digest_changes_with_their_suites_only(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_DIR / "expectations", tmp_path / "expectations")
    before = suites_digest(tmp_path, NEWS_MODELS)
    assert before == suites_digest(PROJECT_DIR, NEWS_MODELS)
    other = tmp_path / "expectations" / "silver__prices_daily.json"
    other.write_text(other.read_text().replace('"critical"', '"warning"', 1))
    assert suites_digest(tmp_path, NEWS_MODELS) == before
    suite = tmp_path / "expectations" / "silver__news_sentiment.json"
    suite.write_text(suite.read_text().replace('"critical"', '"warning"', 1))
    assert suites_digest(tmp_path, NEWS_MODELS) != before
