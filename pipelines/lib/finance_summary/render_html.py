"""HTML export: ONE self-contained file (inline CSS and SVG, no script, no external URL).

Money charts are drawn per currency (tenants billing in the same currency combined; amounts
in different currencies are never added up); the occupancy chart combines all selected
tenants. The tables below the charts list every tenant's rows.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from pipelines.lib.finance_summary.charts import bar_chart, share_chart
from pipelines.lib.finance_summary.formats import display, money
from pipelines.lib.finance_summary.sections import REVENUE_MEASURES, FinanceSummary, Section

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
    """The section's rows; for one tenant without the tenant columns (the page title names it)."""
    single_tenant = section.frame["tenant_slug"].nunique() <= 1
    shown = [
        index
        for index, column in enumerate(section.columns)
        if not (single_tenant and column.name in ("tenant_slug", "tenant_name"))
    ]
    head = "".join(f"<th>{escape(section.columns[index].title)}</th>" for index in shown)
    body = []
    for row in section.rows():
        cells = []
        for index in shown:
            column = section.columns[index]
            css = ' class="num"' if column.kind in NUMERIC else ""
            cells.append(f"<td{css}>{escape(display(row[index], column.kind))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _by_currency(section: Section):
    """(caption suffix, rows) per currency: money of different currencies is never added up."""
    for currency, frame in section.frame.groupby("currency", sort=True):
        tenants = frame["tenant_slug"].nunique()
        combined = f", {tenants} tenants combined" if tenants > 1 else ""
        yield f"{currency or 'no invoices'}{combined}", frame


def _revenue_charts(section: Section) -> list[tuple[str, str]]:
    charts = []
    for caption, frame in _by_currency(section):
        by_month = frame.groupby("month", sort=True)[list(REVENUE_MEASURES)].sum()
        svg = bar_chart(
            f"Revenue by month ({caption})",
            [f"{month:%Y-%m}" for month in by_month.index],
            {
                "Invoiced": by_month["invoiced_cents"].tolist(),
                "Collected": by_month["collected_cents"].tolist(),
                "Refunded": by_month["refunded_cents"].tolist(),
                "Net": by_month["net_cents"].tolist(),
            },
            lambda cents: money(cents).rsplit(".", 1)[0],
        )
        charts.append((f"Revenue by month ({caption})", svg))
    return charts


def _payment_charts(section: Section) -> list[tuple[str, str]]:
    charts = []
    for caption, frame in _by_currency(section):
        by_method = frame.groupby("method", sort=False)["collected_cents"].sum()
        svg = share_chart(f"Payment-method mix ({caption})", list(by_method.index), by_method.tolist(), money)
        charts.append((f"Payment-method mix ({caption})", svg))
    return charts or [("Payment-method mix", share_chart("Payment-method mix", [], [], money))]


def _occupancy_charts(section: Section) -> list[tuple[str, str]]:
    by_month = section.frame.groupby("month", sort=True)[["occupied_nights", "capacity_nights"]].sum()
    rates = [
        occupied / capacity if capacity else None
        for occupied, capacity in zip(by_month["occupied_nights"], by_month["capacity_nights"], strict=True)
    ]
    tenants = section.frame["tenant_slug"].nunique()
    caption = "Occupancy by month" + (f" ({tenants} tenants combined)" if tenants > 1 else "")
    svg = bar_chart(
        caption,
        [f"{month:%Y-%m}" for month in by_month.index],
        {"Occupancy rate": rates},
        lambda ratio: f"{ratio:.0%}",
        max_value=max([1.0, *(rate for rate in rates if rate is not None)]),
    )
    return [(caption, svg)]


CHARTS = {"revenue": _revenue_charts, "payment_methods": _payment_charts, "occupancy": _occupancy_charts}


def render_html(summary: FinanceSummary) -> str:
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Finance summary {escape(summary.scope_title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Finance summary: {escape(summary.scope_title)}</h1>",
        f'<p class="meta">{summary.first_month:%Y-%m} to {summary.last_month:%Y-%m} · AR aging as of '
        f"{summary.aging_as_of:%Y-%m-%d} · generated {summary.generated_at:%Y-%m-%d %H:%M} UTC · "
        "amounts in each tenant's currency (column Currency), 2 decimals</p>",
    ]
    for section in summary.sections:
        parts.append(f'<section id="{section.key}"><h2>{escape(section.title)}</h2>')
        for caption, svg in CHARTS.get(section.key, lambda _: [])(section):
            parts.append(f'<figure>{svg}<figcaption class="note">{escape(caption)}</figcaption></figure>')
        parts.append(f'<p class="note">{escape(section.note)}</p>{_table(section)}</section>')
    parts.append("</body></html>")
    return "".join(parts)


def write_html(summary: FinanceSummary, path: Path) -> None:
    path.write_text(render_html(summary), encoding="utf-8")
