"""Bronze admission: a landed batch joins the `bronze` catalog only after its dataset's suite
(`expectations/bronze__<dataset>.json`) passes on it.

A batch is validated alone, in `bronze_audit.<dataset>` (its files, nothing else), with its
manifest's record count as a suite parameter. Pending batches are reviewed in rounds of at
most one batch per dataset, one GX checkpoint per round, so a usual ingest costs one
checkpoint. A batch whose checks fail is kept on disk, its manifest marked quarantined with
the reason, and never registered. A check that could not be evaluated (the engine failed, an
expectation raised) is no verdict: the batch stays pending and the run stops with a typed
error. Every outcome is appended to the gate results table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import zip_longest
from typing import Protocol

from marketpulse import history
from marketpulse.engine import EngineClient
from marketpulse.errors import BronzeGateUnavailable
from marketpulse.gates import Gate, GateResult
from marketpulse.ingestion import catalog
from marketpulse.ingestion.bronze import BatchManifest

LAYER = "bronze"


class Quarantines(Protocol):
    """What admission needs of a bronze writer (local or S3)."""

    def quarantine(self, manifest: BatchManifest, reason: str) -> BatchManifest: ...


def record_count_parameter(dataset: str) -> str:
    """The suite parameter holding the manifest's record count (one checkpoint run validates
    several datasets, so each has its own name)."""
    return f"{dataset}_record_count"


def admit(
    client: EngineClient,
    gate: Gate,
    writer: Quarantines,
    pending: Mapping[str, Sequence[BatchManifest]],
    raw_root: str,
    run_id: str,
    progress: Callable[[str], None] = print,
) -> list[BatchManifest]:
    """Validate each pending batch (dataset -> batches not yet registered); register those
    that pass and quarantine the others, which are returned."""
    quarantined, unevaluated = [], []
    rounds = list(zip_longest(*pending.values()))
    for number, batches in enumerate(rounds, start=1):
        under_review = {m.dataset: m for m in batches if m is not None}
        if len(rounds) > 1:
            progress(f"bronze gate: round {number}/{len(rounds)} ({len(under_review)} batches)")
        for m in under_review.values():
            catalog.stage_for_review(client, m, raw_root)
        result = gate.run(
            LAYER,
            run_id,
            tables=set(under_review),
            parameters={record_count_parameter(d): m.record_count for d, m in under_review.items()},
        )
        for dataset, m in under_review.items():
            table = f"{catalog.REVIEW_SCHEMA}.{dataset}"
            verdict = GateResult(LAYER, run_id, [o for o in result.outcomes if o.table == table])
            history.record(client, verdict, f"batch_id={m.batch_id}")
            errors = [o.label() for o in verdict.outcomes if o.error]
            if errors or not verdict.outcomes:
                unevaluated.append(f"{dataset} batch {m.batch_id} ({'; '.join(errors)})")
            elif verdict.passed:
                catalog.register(client, m, progress)
            else:
                reason = "; ".join(o.label() for o in verdict.blocking)
                catalog.unregister(client, m)  # a registration a crash cut short
                quarantined.append(writer.quarantine(m, f"bronze gate failed: {reason}"))
                progress(
                    f"bronze gate: {dataset} batch {m.batch_id} QUARANTINED, not registered: "
                    + reason
                )
    if unevaluated:  # after every round: one batch that cannot be checked holds no other
        raise BronzeGateUnavailable(unevaluated)
    return quarantined
