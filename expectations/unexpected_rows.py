"""GX's UnexpectedRowsExpectation, answered by one query execution instead of two.

GX's own expectation runs its query twice, once to count the unexpected rows and once
to fetch them; each run of an orphan check scans the child table. This one wraps the
check's query so a single execution returns both: at most SAMPLE_ROWS rows, each
carrying the exact total in a window column. The count is exact whatever the sample
size; what GX reports (observed value, success, rows in COMPLETE format) is unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation

from expectations.results import SAMPLE_ROWS

TOTAL_COLUMN = "_unexpected_total"


def counted(query: str, sample_rows: int = SAMPLE_ROWS) -> str:
    """`query` returning at most `sample_rows` of its rows, each with the total row count."""
    return (
        f"select unexpected.*, count(*) over () as {TOTAL_COLUMN}\n"
        f"from (\n{query}\n) as unexpected\n"
        f"limit {int(sample_rows)}"
    )


class CountedUnexpectedRowsExpectation(UnexpectedRowsExpectation):
    """Passes when its query returns no row; `unexpected_rows_query` must come from `counted()`."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.table",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        rows: list[dict[str, Any]] = metrics["unexpected_rows_query.table"]
        total = int(rows[0][TOTAL_COLUMN]) if rows else 0
        sample = [{key: value for key, value in row.items() if key != TOTAL_COLUMN} for row in rows]
        return {
            "success": total == 0,
            "result": {"observed_value": total, "details": {"unexpected_rows": sample}},
        }


class FlaggedRowsExpectation(UnexpectedRowsExpectation):
    """One flag of a shared scan (expectations.checks.scan_checks); passes when the flag's total is 0.

    Every expectation of a scan carries the same query, so GX resolves the metric once
    and the relation is read once for all of them.
    """

    flag: str
    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.table",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        rows: list[dict[str, Any]] = metrics["unexpected_rows_query.table"]
        total = int(rows[0][f"{self.flag}__total"]) if rows else 0
        flags = {key.removesuffix("__total") for key in (rows[0] if rows else {}) if key.endswith("__total")}
        sample = [
            {key: value for key, value in row.items() if key not in flags and not key.endswith(("__total", "__rank"))}
            for row in rows
            if row[self.flag]
        ]
        return {
            "success": total == 0,
            "result": {"observed_value": total, "details": {"unexpected_rows": sample}},
        }
