"""Quality gates: a layer's audit relations are validated by its GX suites before promotion.

Suites are reviewed JSON files in `expectations/<layer>__<table>.json` (GX's own suite format,
each expectation with GX's `severity`: `critical` blocks promotion, `warning` and `info` are
reported). GX can pass vacuously, so a suite with no expectations, a missing table and an
expectation that raised all count as failures here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from marketpulse.config import AUDIT_SUFFIX, Settings
from marketpulse.errors import SuiteError, engine_error_message

DATASOURCE = "engine"
RESULT_FORMAT = "BASIC"  # counts and a few example values; enough to name what failed


@dataclass(frozen=True)
class SuiteFile:
    name: str
    layer: str
    table: str
    definition: dict[str, Any]

    @property
    def audit_schema(self) -> str:
        return self.layer + AUDIT_SUFFIX


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    table: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    success: bool
    observed: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    error: str = ""

    @property
    def blocks(self) -> bool:
        return not self.success and self.severity == "critical"

    def label(self) -> str:
        args = ", ".join(
            f"{k}={v}" for k, v in self.kwargs.items() if k not in {"unexpected_rows_query"}
        )
        what = self.description or f"{self.expectation}({args})"
        detail = self.error or ", ".join(
            f"{k}={v}"
            for k, v in self.observed.items()
            if k in {"observed_value", "unexpected_count", "unexpected_percent"}
        )
        return f"{self.suite}: {what}" + (f" [{detail}]" if detail else "")


@dataclass(frozen=True)
class GateResult:
    layer: str
    run_id: str
    outcomes: list[ExpectationOutcome]

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and not any(o.blocks for o in self.outcomes)

    @property
    def blocking(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.blocks]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and not o.blocks]

    def summary(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "run_id": self.run_id,
            "passed": self.passed,
            "expectations": len(self.outcomes),
            "failed_critical": len(self.blocking),
            "failed_warning": len(self.warnings),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {**self.summary(), "outcomes": [asdict(o) for o in self.outcomes]},
                indent=2,
                default=str,
            )
        )


def load_suites(expectations_dir: Path, layer: str) -> list[SuiteFile]:
    suites = []
    for path in sorted(expectations_dir.glob(f"{layer}__*.json")):
        try:
            definition = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{path}: not valid JSON ({exc})") from exc
        name = path.stem
        if definition.get("name") != name:
            raise SuiteError(f"{path}: suite name must be {name!r} (the file's name)")
        table = name.split("__", 1)[1]
        suites.append(SuiteFile(name=name, layer=layer, table=table, definition=definition))
    if not suites:
        raise SuiteError(
            f"no suites for layer {layer!r} in {expectations_dir}: "
            "an unguarded layer is never published"
        )
    return suites


class Gate:
    """Runs a layer's suites against its audit relations on the engine."""

    def __init__(self, settings: Settings, progress: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.progress = progress

    def run(self, layer: str, run_id: str) -> GateResult:
        suites = load_suites(self.settings.project_dir / "expectations", layer)
        context = self._context()
        outcomes: list[ExpectationOutcome] = []
        for suite in suites:
            self.progress(
                f"gate {layer}: validating {suite.audit_schema}.{suite.table} "
                f"with {len(suite.definition.get('expectations', []))} expectations"
            )
            outcomes += self._validate(context, suite, run_id)
        result = GateResult(layer=layer, run_id=run_id, outcomes=outcomes)
        return result

    def _context(self) -> Any:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="file", project_root_dir=str(self.settings.lake.gx))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
        s = self.settings
        context.data_sources.add_or_update_sql(
            name=DATASOURCE, connection_string=f"hive://{s.user}@{s.host}:{s.port}/default"
        )
        return context

    def _validate(self, context: Any, suite: SuiteFile, run_id: str) -> list[ExpectationOutcome]:
        import great_expectations as gx
        from great_expectations.checkpoint import UpdateDataDocsAction

        specs = suite.definition.get("expectations") or []
        if not specs:
            return [self._failure(suite, "suite_has_expectations", "suite has no expectations")]
        try:
            gx_suite = context.suites.add_or_update(
                gx.ExpectationSuite(
                    name=suite.name, expectations=specs, meta=suite.definition.get("meta", {})
                )
            )
            datasource = context.data_sources.get(DATASOURCE)
            asset_name = f"{suite.audit_schema}.{suite.table}"
            if asset_name in {a.name for a in datasource.assets}:
                datasource.delete_asset(asset_name)
            asset = datasource.add_table_asset(
                name=asset_name, table_name=suite.table, schema_name=suite.audit_schema
            )
            batch = asset.add_batch_definition_whole_table("whole table")
            validation = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
            )
            checkpoint = context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=f"{suite.name}__gate",
                    validation_definitions=[validation],
                    actions=[UpdateDataDocsAction(name="data_docs")],
                    result_format={"result_format": RESULT_FORMAT},
                )
            )
            checkpoint_result = checkpoint.run(run_id=gx.RunIdentifier(run_name=run_id))
        except Exception as exc:  # a missing table or column must fail, never pass
            return [self._failure(suite, "validation_ran", f"{type(exc).__name__}: {exc}")]
        outcomes = []
        for validation_result in checkpoint_result.run_results.values():
            for r in validation_result.results:
                config = r.expectation_config
                error = _raised(r.exception_info)
                outcomes.append(
                    ExpectationOutcome(
                        suite=suite.name,
                        table=asset_name,
                        expectation=config.type,
                        kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
                        severity=str(getattr(config.severity, "value", config.severity)),
                        success=bool(r.success) and not error,
                        observed=_jsonable(r.result),
                        description=config.description or "",
                        error=error,
                    )
                )
        if len(outcomes) != len(specs):
            outcomes.append(
                self._failure(
                    suite,
                    "all_expectations_evaluated",
                    f"{len(specs)} expectations defined but {len(outcomes)} evaluated",
                )
            )
        return outcomes

    @staticmethod
    def _failure(suite: SuiteFile, check: str, error: str) -> ExpectationOutcome:
        return ExpectationOutcome(
            suite=suite.name,
            table=f"{suite.audit_schema}.{suite.table}",
            expectation=check,
            kwargs={},
            severity="critical",
            success=False,
            error=error,
        )


def _raised(exception_info: Any) -> str:
    """GX reports exceptions flat or keyed by metric id; either way it must fail the check."""
    if not exception_info:
        return ""
    infos = (
        [exception_info, *exception_info.values()]
        if isinstance(exception_info, dict)
        else [exception_info]
    )
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            return engine_error_message(str(info.get("exception_message") or "raised"))
    return ""


def _jsonable(value: Any) -> dict[str, Any]:
    return dict(json.loads(json.dumps(value or {}, default=str)))


def data_docs_index(settings: Settings) -> Path:
    return settings.lake.gx / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
