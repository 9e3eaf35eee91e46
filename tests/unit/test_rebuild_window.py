"""Gold's rebuild window from the silver promotions since the one it was built on."""

from __future__ import annotations

from marketpulse.incremental import GOLD_PRICE_TABLE, gold_window
from marketpulse.publish import PublishManifest


def _silver(n: int, rebuild_from: str | None) -> PublishManifest:
    return PublishManifest(
        layer="silver",
        run_id=f"s{n}",
        published_at=f"2026-01-0{n}T00:00:00",
        tables={},
        gate={},
        rebuild_from=rebuild_from,
    )


def _gold(built_on: PublishManifest) -> PublishManifest:
    return PublishManifest(
        layer="gold",
        run_id="g",
        published_at="2026-01-09T00:00:00",
        tables={},
        gate={},
        partitions={GOLD_PRICE_TABLE: {"trade_month=2024-05": "a", "trade_month=2024-06": "b"}},
        inputs={"silver_run": built_on.run_id, "silver_published_at": built_on.published_at},
    )


def test_gold_rebuilds_from_the_earliest_month_silver_changed_since() -> None:
    history = [_silver(1, None), _silver(2, "2024-06-01"), _silver(3, "2024-04-01")]
    window = gold_window(history, _gold(history[0]), full_refresh=False)
    assert window.rebuild_from == "2024-04-01"
    assert window.inputs == {"silver_run": "s3", "silver_published_at": history[2].published_at}


def test_a_full_silver_rebuild_or_rollback_since_rebuilds_every_gold_month() -> None:
    history = [_silver(1, "2024-06-01"), _silver(2, None), _silver(3, "2024-06-01")]
    assert gold_window(history, _gold(history[0]), full_refresh=False).rebuild_from is None


def test_unchanged_silver_rebuilds_only_golds_latest_month() -> None:
    history = [_silver(1, "2024-06-01")]
    assert gold_window(history, _gold(history[0]), full_refresh=False).rebuild_from == "2024-06-01"


def test_unknown_predecessors_and_full_refresh_rebuild_everything() -> None:
    history = [_silver(1, "2024-06-01")]
    assert gold_window(history, None, full_refresh=False).rebuild_from is None
    assert gold_window(history, _gold(_silver(7, None)), full_refresh=False).rebuild_from is None
    assert gold_window(history, _gold(history[0]), full_refresh=True).rebuild_from is None
