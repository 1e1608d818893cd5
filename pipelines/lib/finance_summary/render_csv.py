"""CSV export: one file per section (`revenue.csv`, `ar_aging.csv`, `payment_methods.csv`, `occupancy.csv`).

For machines, not people: column names are the data names (`collected_cents`), money stays
exact integer cents, ratios are plain decimals, months are YYYY-MM, UTF-8 with a header row.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.lib.finance_summary.sections import FinanceSummary


def _csv_value(value, kind: str):
    if value is None:
        return ""
    if kind == "month":
        return f"{value:%Y-%m}"
    if kind == "percent":
        return f"{float(value):.6f}"
    if kind in ("cents", "count"):
        return int(value)
    return value


def write_csv(summary: FinanceSummary, directory: Path) -> list[Path]:
    """Write every section into `directory` (which must exist); returns the files written."""
    written = []
    for section in summary.sections:
        path = directory / f"{section.key}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([column.name for column in section.columns])
            for row in section.rows():
                writer.writerow([_csv_value(v, c.kind) for v, c in zip(row, section.columns, strict=True)])
        written.append(path)
    return written
