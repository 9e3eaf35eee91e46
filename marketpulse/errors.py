"""One exception tree. Transient errors may be retried; terminal ones stop the run."""

from __future__ import annotations


class MarketPulseError(Exception):
    """Root of every error MarketPulse raises on purpose."""


class TransientError(MarketPulseError):
    """Worth retrying (engine busy, connection reset)."""


class EngineError(MarketPulseError):
    """The local Spark Thrift engine could not be started, reached or stopped."""


class EngineUnavailable(EngineError, TransientError):
    """The engine does not answer on its port."""


class PortInUse(EngineError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {host}:{port} is held by another process; stop it or choose another port "
            f"with --port / MARKETPULSE_THRIFT_PORT"
        )
        self.host, self.port = host, port


class IngestError(MarketPulseError):
    """A delivery could not be written to bronze."""


class BuildError(MarketPulseError):
    """dbt failed to build a layer's audit relations."""


class BronzeFilesLost(MarketPulseError):
    """Batches the catalog lists have no files in bronze any more."""

    def __init__(self, raw_root: str, lost: list[str]) -> None:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        super().__init__(
            f"registered bronze batches have no files under {raw_root}: {shown}. Restore "
            "them (an unmounted volume, an unfinished sync?) and run the command again; "
            "until then nothing is registered, built or published (a build reads only the "
            "batches no published version has read, so it would not notice the loss)"
        )
        self.lost = lost


class SuiteError(MarketPulseError):
    """An expectation suite file is malformed or guards nothing."""


class BronzeGateUnavailable(TransientError):
    """A batch's bronze suite could not be evaluated (engine error, an expectation raised):
    no verdict, so the batch is neither registered nor quarantined."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "the bronze gate could not validate "
            + "; ".join(problems)
            + ". The batches stay landed and unregistered; once the engine or the suite is "
            "fixed, `marketpulse build` (or the same ingest again) validates them"
        )
        self.problems = problems


class PublishError(MarketPulseError):
    """Promotion or rollback could not be completed."""


class LockHeld(MarketPulseError):
    def __init__(self, path: str, holder: str) -> None:
        super().__init__(
            f"another MarketPulse run holds the lake lock {path} ({holder}); wait for it to finish"
        )
        self.path, self.holder = path, holder


def engine_error_message(text: str, limit: int = 400) -> str:
    """The engine's own one-line message out of a Thrift/PyHive error dump."""
    start = text.find("errorMessage=")
    if start >= 0:
        text = text[start + len("errorMessage=") :].lstrip("\"'")
    text = text.replace("Error running query: ", "").split("\\n")[0].split("\n")[0]
    return text[:limit]


class BatchQuarantined(MarketPulseError):
    """A delivery was kept on disk but not registered: too much of it could not be read, or
    it failed its bronze suite."""

    def __init__(self, dataset: str, batch_id: str, path: str, reason: str) -> None:
        super().__init__(
            f"{dataset} batch {batch_id} quarantined: {reason}. It is kept at {path} (its "
            "manifest says why; unreadable lines are under raw/rejected_records/) and was not "
            "registered; fix the delivery and deliver it again"
        )
        self.dataset, self.batch_id, self.path, self.reason = dataset, batch_id, path, reason
