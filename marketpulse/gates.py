"""Quality gates: a layer's audit relations are validated by its GX suites before promotion.

Suites are reviewed JSON files in `expectations/<layer>__<table>.json` (GX's own suite format,
each expectation with GX's `severity`: `critical` blocks promotion, `warning` and `info` are
reported). GX can pass vacuously, so a suite with no expectations, a missing table and an
expectation that raised all count as failures here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from marketpulse.config import AUDIT_SUFFIX, Settings
from marketpulse.engine import EngineClient
from marketpulse.errors import MarketPulseError, SuiteError, engine_error_message

DATASOURCE = "engine"
# The decision needs only pass/fail: the cheapest format. What failed is validated again with
# counts and example values, so analysts see why (and Data Docs get that detail too).
DECISION_FORMAT = "BOOLEAN_ONLY"
DETAIL_FORMAT = "BASIC"
ROWS_EXPECTATION = "unexpected_rows_expectation"  # a SQL query whose rows are the failures
EXAMPLES = 10  # rows of such a query shown with its failure
# Data Docs' index lists the latest results only: GX reads every result it lists on each
# update, so an unbounded index would slow every gate as runs accumulate (~25 per run).
# Older result pages stay; the trust report keeps the whole history.
INDEXED_RESULTS = 1000
DOCS_SITE = "local_site"


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
        examples = self.observed.get("examples") or []
        if examples:
            detail += "; e.g. " + "; ".join(examples[:3]) + ("; ..." if len(examples) > 3 else "")
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

    def run(
        self,
        layer: str,
        run_id: str,
        tables: set[str] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> GateResult:
        """Validate the layer's audit tables (or only `tables`); `parameters` fill the suites'
        `$PARAMETER` values (e.g. a batch's record count from its manifest)."""
        suites = load_suites(self.settings.project_dir / "expectations", layer)
        if tables is not None:
            unguarded = tables - {s.table for s in suites}
            if unguarded:
                raise SuiteError(
                    f"no {layer} suite for {', '.join(sorted(unguarded))}: add "
                    f"expectations/{layer}__<table>.json; an unguarded table is never published"
                )
            suites = [s for s in suites if s.table in tables]
        parameters = parameters or {}
        context = self._context()
        outcomes: list[ExpectationOutcome] = []
        validations = {}
        for suite in suites:
            if not suite.definition.get("expectations"):
                outcomes.append(
                    self._failure(suite, "suite_has_expectations", "suite has no expectations")
                )
                continue
            try:
                validations[suite.name] = self._validation(context, suite, suite.definition)
            except Exception as exc:  # a malformed expectation must fail, never pass
                outcomes.append(self._failure(suite, "validation_ran", _exc(exc)))
        by_name = {s.name: s for s in suites}
        total = sum(len(by_name[n].definition["expectations"]) for n in validations)
        self.progress(f"gate {layer}: {total} expectations on {len(validations)} tables")
        decided = self._checkpoint(
            context, f"{layer}__gate", validations, run_id, DECISION_FORMAT, parameters
        )
        failed: dict[str, list[dict[str, Any]]] = {}
        for name in validations:
            suite = by_name[name]
            results = decided.get(name, RuntimeError("GX returned no result for this suite"))
            if isinstance(results, Exception):  # e.g. the audit table is missing
                outcomes.append(self._failure(suite, "validation_ran", _exc(results)))
                continue
            found = [self._outcome(suite, r) for r in results]
            failed_specs = [_spec(r) for r, o in zip(results, found, strict=True) if not o.success]
            if failed_specs:
                failed[name] = failed_specs
            outcomes += found
            if len(found) != len(suite.definition["expectations"]):
                outcomes.append(
                    self._failure(
                        suite,
                        "all_expectations_evaluated",
                        f"{len(suite.definition['expectations'])} expectations defined "
                        f"but {len(found)} evaluated",
                    )
                )
        if failed:
            outcomes = self._with_detail(
                context, layer, run_id, by_name, failed, outcomes, parameters
            )
            outcomes = self._with_examples(by_name, outcomes)
        return GateResult(layer=layer, run_id=run_id, outcomes=outcomes)

    def _with_examples(
        self, suites: dict[str, SuiteFile], outcomes: list[ExpectationOutcome]
    ) -> list[ExpectationOutcome]:
        """The first rows a failed SQL-row expectation found (e.g. the missing ticker-session
        pairs), as JSON: GX returns them only with its COMPLETE format, for every check."""
        wanted = [
            o
            for o in outcomes
            if not o.success and o.expectation == ROWS_EXPECTATION and o.suite in suites
        ]
        if not wanted:
            return outcomes
        examples: dict[int, list[str]] = {}
        client = EngineClient(self.settings)
        try:
            for o in wanted:
                suite = suites[o.suite]
                query = str(o.kwargs["unexpected_rows_query"]).replace(
                    "{batch}", f"{suite.audit_schema}.{suite.table}"
                )
                try:
                    rows = client.query(
                        f"select to_json(struct(*)) from ({query}) as found limit {EXAMPLES}"
                    )
                except MarketPulseError as exc:  # examples are a courtesy
                    self.progress(f"gate: no examples for {o.label()} ({_exc(exc)})")
                    continue
                examples[id(o)] = [str(r[0]) for r in rows]
        finally:
            client.close()
        return [
            replace(o, observed={**o.observed, "examples": examples[id(o)]})
            if id(o) in examples
            else o
            for o in outcomes
        ]

    def _context(self) -> Any:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="file", project_root_dir=str(self.settings.lake.gx))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        sites = context.variables.data_docs_sites or {}
        if DOCS_SITE in sites:  # a project without the site gets no index to bound
            index = sites[DOCS_SITE].setdefault("site_index_builder", {})
            index["validation_results_limit"] = INDEXED_RESULTS
            context.variables.data_docs_sites = sites
        context.variables.save()
        s = self.settings
        url = f"hive://{s.user}@{s.host}:{s.port}/default"
        # Re-adding the datasource drops its tables (assets), and GX queries each table as it
        # is added again (`SELECT 1 ... LIMIT 1`): an unchanged one is kept, with its tables.
        # A missing table still fails its own validation.
        known = context.data_sources.all().get(DATASOURCE)
        if known is None or str(getattr(known, "connection_string", "")) != url:
            context.data_sources.add_or_update_sql(name=DATASOURCE, connection_string=url)
        return context

    def _with_detail(
        self,
        context: Any,
        layer: str,
        run_id: str,
        suites: dict[str, SuiteFile],
        failed: dict[str, list[dict[str, Any]]],
        outcomes: list[ExpectationOutcome],
        parameters: dict[str, Any],
    ) -> list[ExpectationOutcome]:
        """Validate only what failed again, with counts and examples. The decision stays the
        first run's; the detail run only adds what analysts need to see why."""
        count = sum(len(v) for v in failed.values())
        self.progress(f"gate {layer}: {count} failed; fetching their detail")
        detailed: dict[tuple[str, str, str], ExpectationOutcome] = {}
        try:
            validations = {
                name: self._validation(
                    context,
                    suites[name],
                    {**suites[name].definition, "expectations": specs},
                    "__detail",
                )
                for name, specs in failed.items()
            }
            runs = self._checkpoint(
                context, f"{layer}__gate_detail", validations, run_id, DETAIL_FORMAT, parameters
            )
        except Exception as exc:  # detail is a courtesy: the failures stand without it
            self.progress(f"gate {layer}: no detail for the failures ({_exc(exc)})")
            return outcomes
        for name, results in runs.items():
            if not isinstance(results, Exception):
                for r in results:
                    outcome = self._outcome(suites[name], r)
                    detailed[(name, outcome.expectation, _key(outcome.kwargs))] = outcome
        return [
            replace(o, observed=_with_detail_error(found))
            if not o.success and (found := detailed.get((o.suite, o.expectation, _key(o.kwargs))))
            else o
            for o in outcomes
        ]

    def _validation(
        self, context: Any, suite: SuiteFile, definition: dict[str, Any], variant: str = ""
    ) -> Any:
        import great_expectations as gx

        gx_suite = context.suites.add_or_update(
            gx.ExpectationSuite(
                name=suite.name + variant,
                expectations=counted(definition["expectations"]),
                meta=definition.get("meta", {}),
            )
        )
        datasource = context.data_sources.get(DATASOURCE)
        asset_name = f"{suite.audit_schema}.{suite.table}"
        if asset_name in {a.name for a in datasource.assets}:
            asset = datasource.get_asset(asset_name)
        else:
            asset = datasource.add_table_asset(
                name=asset_name, table_name=suite.table, schema_name=suite.audit_schema
            )
        batch = next(
            (b for b in asset.batch_definitions if b.name == "whole table"), None
        ) or asset.add_batch_definition_whole_table("whole table")
        return context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite.name + variant, data=batch, suite=gx_suite)
        )

    def _checkpoint(
        self,
        context: Any,
        name: str,
        validations: dict[str, Any],
        run_id: str,
        result_format: str,
        parameters: dict[str, Any],
    ) -> dict[str, list[Any] | Exception]:
        """One checkpoint and one Data Docs update for many tables. If the checkpoint raises,
        each table is validated on its own, so one broken table cannot hide the others'
        results."""
        import great_expectations as gx

        def run(batch: dict[str, Any]) -> dict[str, list[Any]]:
            checkpoint = context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=name if len(batch) > 1 else f"{name}__{next(iter(batch))}",
                    validation_definitions=list(batch.values()),
                    result_format={"result_format": result_format},
                )
            )
            result = checkpoint.run(
                expectation_parameters=parameters,
                run_id=gx.RunIdentifier(run_name=gx_run_name(run_id)),
            )
            self._update_docs(context, list(result.run_results))
            return {
                identifier.expectation_suite_identifier.name.removesuffix("__detail"): list(
                    validation.results
                )
                for identifier, validation in result.run_results.items()
            }

        if not validations:
            return {}
        try:
            return dict(run(validations))
        except Exception:
            separately: dict[str, list[Any] | Exception] = {}
            for suite_name, validation in validations.items():
                try:
                    separately.update(run({suite_name: validation}))
                except Exception as exc:
                    separately[suite_name] = exc
            return separately

    def _update_docs(self, context: Any, validations: list[Any]) -> None:
        """Render the new results' pages, their suites' pages and the index once. GX's
        UpdateDataDocsAction does it once per validation, and each index build reads every
        stored result (see `INDEXED_RESULTS`). The pages are for analysts: an update that
        fails (a store or file error; GX itself only logs a page it cannot render) is
        reported, never turned into a gate decision."""
        if not validations:  # no identifiers would make GX re-render every page
            return
        pages = [page for v in validations for page in (v, v.expectation_suite_identifier)]
        try:
            context.build_data_docs(resource_identifiers=pages)
        except Exception as exc:
            self.progress(f"gate: Data Docs not updated ({_exc(exc)}); the results stand")

    @staticmethod
    def _outcome(suite: SuiteFile, r: Any) -> ExpectationOutcome:
        from marketpulse.counted_rows import COUNTED_ROWS

        config = r.expectation_config
        error = _raised(r.exception_info)
        return ExpectationOutcome(
            suite=suite.name,
            table=f"{suite.audit_schema}.{suite.table}",
            # Reported as the suite names it.
            expectation=ROWS_EXPECTATION if config.type == COUNTED_ROWS else config.type,
            kwargs={k: v for k, v in config.kwargs.items() if k != "batch_id"},
            severity=str(getattr(config.severity, "value", config.severity)),
            success=bool(r.success) and not error,
            observed=_jsonable(r.result),
            description=config.description or "",
            error=error,
        )

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


def counted(expectations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A suite's expectations as the gate validates them: the same checks, each SQL-row
    query run once (see marketpulse/counted_rows.py)."""
    from marketpulse.counted_rows import COUNTED_ROWS

    return [
        {**e, "type": COUNTED_ROWS} if e["type"] == ROWS_EXPECTATION else e for e in expectations
    ]


def gx_run_name(run_id: str) -> str:
    """GX's Data Docs index feeds run names to dateutil and does not catch every error: a run
    id like 20261128T221850Z-9166ad parses as a time with an impossible UTC offset and breaks
    every later Data Docs build of the lake. A leading word keeps dateutil out."""
    return f"marketpulse run {run_id}"


def _exc(exc: Exception) -> str:
    return f"{type(exc).__name__}: {engine_error_message(str(exc))}"


def _spec(result: Any) -> dict[str, Any]:
    """An evaluated expectation as a suite entry again (for the detail run)."""
    spec = dict(result.expectation_config.to_json_dict())
    spec.pop("id", None)
    spec["kwargs"] = {k: v for k, v in spec["kwargs"].items() if k != "batch_id"}
    return spec


def _with_detail_error(found: ExpectationOutcome) -> dict[str, Any]:
    """The detail run's observations; its own error, if any, is only detail: the decision
    (and whether it was evaluated at all) stays the first run's."""
    return {**found.observed, **({"detail_error": found.error} if found.error else {})}


def _key(kwargs: dict[str, Any]) -> str:
    return json.dumps(kwargs, sort_keys=True, default=str)


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
    return settings.lake.gx / "gx" / "uncommitted" / "data_docs" / DOCS_SITE / "index.html"
