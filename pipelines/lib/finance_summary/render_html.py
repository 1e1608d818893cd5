"""HTML export: ONE self-contained file (inline CSS and SVG, no script, no external URL).

Charts show the selected tenants combined (one tenant: that tenant); the tables below
them list every tenant's rows.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from pipelines.lib.finance_summary.charts import bar_chart, share_chart
from pipelines.lib.finance_summary.formats import display, money
from pipelines.lib.finance_summary.sections import FinanceSummary, Section

STYLE = """
body { font-family: sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #555; margin-top: 0; }
section { margin-top: 2.5rem; } .note { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: .8rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .5rem; }
th { background: #2f6690; color: #fff; position: sticky; top: 0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 28rem; overflow: auto; }
"""
NUMERIC = {"cents", "count", "percent"}


def _table(section: Section) -> str:
    head = "".join(f"<th>{escape(column.title)}</th>" for column in section.columns)
    body = []
    for row in section.rows():
        cells = "".join(
            f'<td class="num">{escape(display(value, column.kind))}</td>'
            if column.kind in NUMERIC
            else f"<td>{escape(display(value, column.kind))}</td>"
            for value, column in zip(row, section.columns, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _revenue_chart(section: Section) -> str:
    by_month = section.frame.groupby("month", sort=True)[
        ["invoiced_cents", "collected_cents", "refunded_cents", "net_cents"]
    ].sum()
    return bar_chart(
        "Revenue by month",
        [f"{month:%Y-%m}" for month in by_month.index],
        {
            "Invoiced": by_month["invoiced_cents"].tolist(),
            "Collected": by_month["collected_cents"].tolist(),
            "Refunded": by_month["refunded_cents"].tolist(),
            "Net": by_month["net_cents"].tolist(),
        },
        lambda cents: money(cents).rsplit(".", 1)[0],
    )


def _payment_chart(section: Section) -> str:
    by_method = section.frame.groupby("method", sort=False)["collected_cents"].sum()
    return share_chart("Payment-method mix", list(by_method.index), by_method.tolist(), money)


def _occupancy_chart(section: Section) -> str:
    by_month = section.frame.groupby("month", sort=True)[["occupied_nights", "capacity_nights"]].sum()
    rates = [
        occupied / capacity if capacity else None
        for occupied, capacity in zip(by_month["occupied_nights"], by_month["capacity_nights"], strict=True)
    ]
    return bar_chart(
        "Occupancy by month",
        [f"{month:%Y-%m}" for month in by_month.index],
        {"Occupancy rate": rates},
        lambda ratio: f"{ratio:.0%}",
        max_value=max([1.0, *(rate for rate in rates if rate is not None)]),
    )


CHARTS = {"revenue": _revenue_chart, "payment_methods": _payment_chart, "occupancy": _occupancy_chart}


def render_html(summary: FinanceSummary) -> str:
    combined = " (all tenants combined)" if summary.section("revenue").frame["tenant_slug"].nunique() > 1 else ""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Finance summary {escape(summary.scope_title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Finance summary: {escape(summary.scope_title)}</h1>",
        f'<p class="meta">{summary.first_month:%Y-%m} to {summary.last_month:%Y-%m} · AR aging as of '
        f"{summary.aging_as_of:%Y-%m-%d} · generated {summary.generated_at:%Y-%m-%d %H:%M} UTC · "
        "amounts in currency units</p>",
    ]
    for section in summary.sections:
        chart = CHARTS.get(section.key)
        parts.append(f'<section id="{section.key}"><h2>{escape(section.title)}</h2>')
        if chart:
            parts.append(
                f'<figure>{chart(section)}<figcaption class="note">{escape(section.title)}{combined}'
                "</figcaption></figure>"
            )
        parts.append(f'<p class="note">{escape(section.note)}</p>{_table(section)}</section>')
    parts.append("</body></html>")
    return "".join(parts)


def write_html(summary: FinanceSummary, path: Path) -> None:
    path.write_text(render_html(summary), encoding="utf-8")
