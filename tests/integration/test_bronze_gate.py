"""The bronze gate: a landed batch is registered only after its dataset's GX suite passes on
it; a failing one is kept, marked quarantined with the reason, and never becomes visible.

The tests run in file order on a lake of their own (the batches they admit would change the
state the other modules' lake is checked against). The default data's batches pass the same
gate in `test_pipeline`, which checks a passing verdict is on record for each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from marketpulse import cli
from marketpulse.config import PROJECT_DIR, Settings
from marketpulse.engine import EngineClient
from marketpulse.errors import BatchQuarantined
from marketpulse.ingestion import catalog
from marketpulse.ingestion.bronze import COMMITTED, MANIFEST, QUARANTINED, BatchManifest
from marketpulse.ingestion.contracts import OPERATOR_RELEASES
from marketpulse.ingestion.simulator import SimulationConfig, simulate
from marketpulse.pipeline import Pipeline

from .conftest import engine_on_own_lake

BARS = [
    {
        "line_number": n,
        "ticker": "CNT",
        "trade_date": f"2024-05-0{n}",  # Wednesday to Friday
        "open": "10",
        "high": "11",
        "low": "9",
        "close": "10.5",
        "volume": "100",
    }
    for n in (1, 2, 3)
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with engine_on_own_lake(tmp_path_factory, "bronze_gate_lake") as settings:
        yield settings


@pytest.fixture()
def client(lake: Settings) -> Iterator[EngineClient]:
    c = EngineClient(lake)
    yield c
    c.close()


def _manifest(settings: Settings, dataset: str, batch_id: str) -> BatchManifest:
    (path,) = (settings.lake.raw / dataset).glob(f"source=*/ingest_date=*/batch_id={batch_id}")
    return BatchManifest(**json.loads((path / MANIFEST).read_text()))


def _visible_rows(client: EngineClient, dataset: str, batch_id: str) -> tuple[int, int]:
    """(rows in bronze.batches, rows in bronze.<dataset>) for a batch."""
    registered = client.query(f"select count(*) from bronze.batches where batch_id = '{batch_id}'")
    rows = client.query(f"select count(*) from bronze.{dataset} where batch_id = '{batch_id}'")
    return registered[0][0], rows[0][0]


def _verdicts(client: EngineClient, batch_id: str) -> list[tuple[str, bool]]:
    """(description, success) of each recorded bronze gate outcome for a batch, in run order."""
    return client.query(
        "select description, success from quality.gate_results "
        f"where layer = 'bronze' and partition_range = 'batch_id={batch_id}' "
        "order by evaluated_at, description"
    )


def _suite_size(dataset: str) -> int:
    suite = json.loads((PROJECT_DIR / "expectations" / f"bronze__{dataset}.json").read_text())
    return len(suite["expectations"])


def test_a_delivery_missing_a_column_is_quarantined_at_the_door(
    lake: Settings, client: EngineClient
) -> None:
    config = SimulationConfig(
        tickers=5, start=date(2024, 1, 2), end=date(2024, 2, 29), faults=("missing_column",)
    )
    fault = next(d for d in simulate(config) if "missing_column" in d.description)
    records = list(fault.records)
    pipeline = Pipeline(lake)

    with pytest.raises(BatchQuarantined, match="`volume` is delivered") as caught:
        pipeline.ingest(fault.dataset, fault.source, records)

    batch_id = caught.value.batch_id
    kept = _manifest(lake, "prices_daily", batch_id)
    assert kept.status == QUARANTINED
    assert '{"records":3,"unexpected":3}' in (kept.reason or "")  # all three lack it
    assert _visible_rows(client, "prices_daily", batch_id) == (0, 0)
    verdicts = _verdicts(client, batch_id)
    assert len(verdicts) == _suite_size("prices_daily")  # the whole suite ran, on record
    assert [d for d, ok in verdicts if not ok] == [
        "`volume` is delivered (not empty) in at least 95% of records (a column missing from "
        "the delivery fails here)."
    ]
    # Delivered again, it is reviewed again and refused again, with its reason.
    with pytest.raises(BatchQuarantined, match="`volume` is delivered"):
        pipeline.ingest(fault.dataset, fault.source, records)
    assert len(_verdicts(client, batch_id)) == 2 * _suite_size("prices_daily")
    assert _visible_rows(client, "prices_daily", batch_id) == (0, 0)


def test_empty_json_values_count_as_missing(lake: Settings, client: EngineClient) -> None:
    article = {
        "line_number": 1,
        "article_id": "a-1",
        "published_at": "2024-05-01T12:00:00Z",
        "headline": " ",
        "publisher": "Wire",
        "tickers": ["CNT", ""],
    }
    pipeline = Pipeline(lake)

    with pytest.raises(BatchQuarantined, match="`headline` is delivered") as caught:
        pipeline.ingest("news_articles", "wire", [article])

    assert "`tickers` is delivered" not in str(caught.value)  # one real ticker is enough
    assert _visible_rows(client, "news_articles", caught.value.batch_id) == (0, 0)


def test_a_damaged_batch_is_quarantined_and_delivering_it_again_repairs_it(
    lake: Settings, client: EngineClient
) -> None:
    pipeline = Pipeline(lake)
    landed = pipeline.ingest("prices_daily", "vendor", BARS, register=False).manifest
    # The files lose a record after the manifest counted three (a damaged copy, a bad sync).
    part = lake.lake.raw / "prices_daily" / landed.partition_path / landed.file
    part.write_text("".join(part.read_text().splitlines(keepends=True)[:-1]))

    quarantined = pipeline.register_pending()

    assert [m.batch_id for m in quarantined] == [landed.batch_id]
    reason = quarantined[0].reason or ""
    assert "as many records as the batch manifest counts" in reason
    assert "observed_value=2" in reason
    assert _manifest(lake, "prices_daily", landed.batch_id).status == QUARANTINED
    assert _visible_rows(client, "prices_daily", landed.batch_id) == (0, 0)

    again = pipeline.ingest("prices_daily", "vendor", BARS)

    assert again.manifest.batch_id == landed.batch_id
    assert _manifest(lake, "prices_daily", landed.batch_id).status == COMMITTED
    assert _visible_rows(client, "prices_daily", landed.batch_id) == (1, 3)
    last_review = _verdicts(client, landed.batch_id)[-_suite_size("prices_daily") :]
    assert all(ok for _, ok in last_review)


def test_dates_in_a_foreign_format_quarantine_the_whole_file(
    lake: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    us_dates = tmp_path / "USFMT.csv"
    us_dates.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "05/01/2024,10.0,10.5,9.9,10.2,1000\n"
        "05/02/2024,10.2,10.6,10.0,10.4,1100\n"
    )
    args = ["--home", str(lake.home), "--port", str(lake.port), "ingest", "prices"]

    code = cli.main([*args, "--file", str(us_dates), "--ticker", "USFMT"])

    assert code == cli.EXIT_GATE_BLOCKED
    captured = capsys.readouterr()
    assert "parses as an ISO date (yyyy-mm-dd) in at least 95% of records" in captured.err
    (kept,) = [
        m
        for m in Pipeline(lake).writer.committed_batches("prices_daily")
        if m.original_file == "_original-USFMT.csv"
    ]
    assert kept.status == QUARANTINED and "`trade_date` parses as an ISO date" in (
        kept.reason or ""
    )
    assert _visible_rows(client, "prices_daily", kept.batch_id) == (0, 0)


def test_a_build_reports_the_pending_batches_the_gate_refuses(
    lake: Settings, client: EngineClient, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = Pipeline(lake)
    pipeline.ingest("prices_daily", "vendor", BARS)  # the calendar covers the prices' years
    name = 'Counted "Quoted"\nInc.'  # a quote and a line break inside one CSV value
    good = pipeline.ingest("instruments", "vendor", [_instrument("CNT", name)], register=False)
    bad = pipeline.ingest("instruments", "vendor", [_instrument("", name)], register=False)

    report = pipeline.build(layers=())

    assert [m.batch_id for m in report.quarantined] == [bad.manifest.batch_id]
    assert "`ticker` is delivered" in (report.quarantined[0].reason or "")
    assert _visible_rows(client, "instruments", good.manifest.batch_id) == (1, 1)
    assert client.query(
        f"select name from bronze.instruments where batch_id = '{good.manifest.batch_id}'"
    ) == [(name,)]
    assert _visible_rows(client, "instruments", bad.manifest.batch_id) == (0, 0)
    # The calendar the build delivers passed the gate under the build's run id.
    assert client.query(
        "select count(*), min(success) from quality.gate_results "
        f"where run_id = '{report.run_id}' and suite = 'bronze__trading_sessions'"
    ) == [(_suite_size("trading_sessions"), True)]


def _instrument(ticker: str, name: str) -> dict[str, str | int]:
    return {"line_number": 1, "ticker": ticker, "name": name, "sector": "Industrials"}


def test_a_lake_from_before_a_contract_gained_a_column_gets_it_and_keeps_its_files(
    lake: Settings, client: EngineClient
) -> None:
    """operator_releases gained `released_batch_id`: a lake whose table and files predate it
    gets the column at the next registration, and its old files read it as null."""
    before = replace(OPERATOR_RELEASES, columns=OPERATOR_RELEASES.columns[:-1], schema_version=1)
    table = "bronze.operator_releases"
    client.execute(f"drop table if exists {table}")  # external: files stay
    client.execute(catalog.table_ddl(before, lake.raw_root))
    pipeline = Pipeline(lake)
    old = {"line_number": 1, "ticker": "CNT", "trade_date": "2024-05-01"}
    record = {**old, "rule_id": "split_like_jump", "reason": "old", "released_by": "ops"}
    written = pipeline.writer.write_records(before, "operator", [record]).manifest
    landed = lake.lake.raw / written.dataset / written.partition_path / written.file
    assert landed.read_text().splitlines()[0].split(",") == list(before.names)
    catalog.register(client, written, print)  # the old lake had registered it
    assert "released_batch_id" not in {c for c, *_ in client.query(f"describe {table}")}

    # The next registration (here, of a new release) adds the column.
    pipeline.release("restatement_budget", "new", "ops", ticker="CNT", on=date(2024, 5, 2))

    assert client.query(
        "select ticker, cast(trade_date as string), rule_id, reason, released_batch_id "
        f"from {table} order by trade_date"
    ) == [
        ("CNT", "2024-05-01", "split_like_jump", "old", None),
        ("CNT", "2024-05-02", "restatement_budget", "new", None),
    ]
