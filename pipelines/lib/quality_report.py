"""The data-quality summary: latest outcome of every expectation, as text rows and as HTML.

Plain functions over rows of `dq.validation_results` (see expectations.results), so the
rendering is tested without a database and the CLI only fetches and prints.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

COLUMNS = ("suite", "expectation", "severity", "status", "unexpected", "checked at")


def status(row: dict) -> str:
    if row["success"]:
        return "passed"
    if row.get("error"):
        return "error"
    return "failed" if row["severity"] == "error" else "warning"


def summary_rows(results: Sequence[dict]) -> list[tuple[str, ...]]:
    """One tuple of display strings per expectation, failures first, then by suite."""
    order = {"error": 0, "failed": 1, "warning": 2, "passed": 3}
    ordered = sorted(results, key=lambda row: (order[status(row)], row["suite"], row["expectation"]))
    return [
        (
            row["suite"],
            row["expectation"],
            row["severity"],
            status(row),
            "" if row["unexpected_count"] is None else f"{row['unexpected_count']:,}",
            _when(row["checked_at"]),
        )
        for row in ordered
    ]


def counts(results: Sequence[dict]) -> dict[str, int]:
    tally = {"passed": 0, "warning": 0, "failed": 0, "error": 0}
    for row in results:
        tally[status(row)] += 1
    return tally


def render_html(results: Sequence[dict], generated_at: datetime) -> str:
    """A self-contained page; each suite links to its Data Docs validation page."""
    tally = counts(results)
    by_key = {(row["suite"], row["expectation"]): row for row in results}
    body_rows = []
    for cells in summary_rows(results):
        row = by_key[(cells[0], cells[1])]
        suite = html.escape(cells[0])
        if row.get("data_docs_url"):
            suite = f'<a href="{html.escape(row["data_docs_url"], quote=True)}">{suite}</a>'
        detail = html.escape(row.get("error") or "")
        tds = [suite, *(html.escape(cell) for cell in cells[1:]), detail]
        body_rows.append(f'<tr class="{html.escape(cells[3])}">' + "".join(f"<td>{td}</td>" for td in tds) + "</tr>")
    header = "".join(f"<th>{html.escape(name)}</th>" for name in (*COLUMNS, "error"))
    headline = ", ".join(f"{count} {name}" for name, count in tally.items())
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kennelworks data quality</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }}
tr.failed td, tr.error td {{ background: #fde2e2; }}
tr.warning td {{ background: #fff4d6; }}
</style>
</head>
<body>
<h1>Kennelworks data quality</h1>
<p>Latest result of every expectation: {html.escape(headline)}. Generated {html.escape(_when(generated_at))}.</p>
<table>
<thead><tr>{header}</tr></thead>
<tbody>
{chr(10).join(body_rows)}
</tbody>
</table>
</body>
</html>
"""


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
