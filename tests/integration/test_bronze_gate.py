"""The bronze gate: a landed batch is registered only after its dataset's GX suite passes on
it; a failing one is kept, marked quarantined with the reason, and never becomes visible.

These tests share the session's lake and land only batches the gate refuses, so the
published state other tests rely on is untouched. Batches that pass are every other test's
deliveries (`test_pipeline` checks each registered batch has a passing verdict on record).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from marketpulse import cli
from marketpulse.config import Settings
from marketpulse.engine import EngineClient
from marketpulse.errors import BatchQuarantined
from marketpulse.ingestion.bronze import MANIFEST, QUARANTINED, BatchManifest
from marketpulse.ingestion.simulator import SimulationConfig, simulate
from marketpulse.pipeline import Pipeline


def _manifest(settings: Settings, dataset: str, batch_id: str) -> BatchManifest:
    (path,) = (settings.lake.raw / dataset).glob(f"source=*/ingest_date=*/batch_id={batch_id}")
    return BatchManifest(**json.loads((path / MANIFEST).read_text()))


def _invisible(client: EngineClient, dataset: str, batch_id: str) -> bool:
    registered = client.query(f"select count(*) from bronze.batches where batch_id = '{batch_id}'")
    rows = client.query(f"select count(*) from bronze.{dataset} where batch_id = '{batch_id}'")
    return registered == rows == [(0,)]


def _verdicts(client: EngineClient, batch_id: str) -> dict[str, bool]:
    """Description -> success of the bronze gate's recorded outcomes for a batch."""
    rows = client.query(
        "select description, success from quality.gate_results "
        f"where layer = 'bronze' and partition_range = 'batch_id={batch_id}'"
    )
    return dict(rows)


def test_a_delivery_missing_a_column_is_quarantined_at_the_door(
    settings: Settings, client: EngineClient
) -> None:
    config = SimulationConfig(
        tickers=5, start=date(2024, 1, 2), end=date(2024, 2, 29), faults=("missing_column",)
    )
    fault = next(d for d in simulate(config) if "missing_column" in d.description)
    records = list(fault.records)
    pipeline = Pipeline(settings)

    with pytest.raises(BatchQuarantined, match="`volume` is delivered in at least 95%") as caught:
        pipeline.ingest(fault.dataset, fault.source, records)

    batch_id = caught.value.batch_id
    kept = _manifest(settings, "prices_daily", batch_id)
    assert kept.status == QUARANTINED and "unexpected_count=3" in (kept.reason or "")
    assert _invisible(client, "prices_daily", batch_id)
    verdicts = _verdicts(client, batch_id)
    failed = [d for d, ok in verdicts.items() if not ok]
    assert failed == [
        "`volume` is delivered in at least 95% of records (a column missing from the "
        "delivery fails here)."
    ]
    assert len(verdicts) == 15  # the whole suite ran and is on record
    # Delivered again, it is the same batch and still refused, with its reason.
    with pytest.raises(BatchQuarantined, match="`volume` is delivered"):
        pipeline.ingest(fault.dataset, fault.source, records)


def test_a_batch_whose_files_disagree_with_its_manifest_is_quarantined(
    settings: Settings, client: EngineClient
) -> None:
    bars = [
        {
            "line_number": n,
            "ticker": "CNT",
            "trade_date": f"2024-05-0{n + 1}",
            "open": "10",
            "high": "11",
            "low": "9",
            "close": "10.5",
            "volume": "100",
        }
        for n in (1, 2, 3)
    ]
    pipeline = Pipeline(settings)
    landed = pipeline.ingest("prices_daily", "counted", bars, register=False).manifest
    # The files lose a record after the manifest counted three (a damaged copy, a bad sync).
    batch_dir = settings.lake.raw / "prices_daily" / landed.partition_path
    part = batch_dir / landed.file
    part.write_text("".join(part.read_text().splitlines(keepends=True)[:-1]))

    admission = pipeline.register_pending()

    assert [m.batch_id for m in admission.quarantined] == [landed.batch_id]
    assert "as many records as the batch manifest counts" in (admission.quarantined[0].reason or "")
    assert "observed_value=2" in (admission.quarantined[0].reason or "")
    assert _manifest(settings, "prices_daily", landed.batch_id).status == QUARANTINED
    assert _invisible(client, "prices_daily", landed.batch_id)


def test_dates_in_a_foreign_format_quarantine_the_whole_file(
    settings: Settings, client: EngineClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    us_dates = tmp_path / "USFMT.csv"
    us_dates.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "05/01/2024,10.0,10.5,9.9,10.2,1000\n"
        "05/02/2024,10.2,10.6,10.0,10.4,1100\n"
    )
    home, port = str(settings.home), str(settings.port)
    args = ["--home", home, "--port", port, "ingest", "prices", "--file", str(us_dates)]

    code = cli.main([*args, "--ticker", "USFMT"])

    out = capsys.readouterr().out
    assert code == cli.EXIT_GATE_BLOCKED
    assert "`trade_date` parses as an ISO date (yyyy-mm-dd) in at least 95% of records" in out
    (batch_id,) = client.query(
        "select distinct partition_range from quality.gate_results where layer = 'bronze' "
        "and not success and description like '`trade_date` parses as%'"
    )[0]
    assert _invisible(client, "prices_daily", batch_id.removeprefix("batch_id="))
