"""An expectation the gate decides SQL-row checks with (imported only with GX).

GX's `unexpected_rows_expectation` computes two metrics from its query, the rows (the first
200) and their count, and Spark runs the query once for each. The gate decides on the count
alone and fetches example rows itself, for failures only (`Gate._with_examples`). Suites keep
GX's type; the gate swaps this one in when it validates (`COUNTED_ROWS`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)


class UnexpectedRowsCountExpectation(UnexpectedRowsExpectation):
    """`unexpected_rows_expectation` deciding on the count of the query's rows alone."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


COUNTED_ROWS = UnexpectedRowsCountExpectation.expectation_type
