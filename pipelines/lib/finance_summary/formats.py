"""How each column kind is shown: text for HTML and CSV readers, number formats for Excel.

Money stays integer cents until this point; it becomes a currency amount (2 decimals)
only when shown, so no figure is ever rounded twice.
"""

from __future__ import annotations

from datetime import date

# Excel number formats per column kind: real numbers in the cells, formatted by Excel.
XLSX_FORMATS = {
    "cents": "#,##0.00",
    "count": "#,##0",
    "percent": "0.0%",
    "month": "yyyy-mm",
    "date": "yyyy-mm-dd",
    "text": "@",
}


def cell_value(value, kind: str):
    """The value an Excel cell holds: currency units for cents, the ratio for percents."""
    if value is None:
        return None
    if kind == "cents":
        return int(value) / 100
    if kind == "count":
        return int(value)
    if kind == "percent":
        return float(value)
    return value


def display(value, kind: str) -> str:
    """The text a person reads (HTML tables, chart labels)."""
    if value is None:
        return ""
    if kind == "cents":
        return money(value)
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{float(value):.1%}"
    if kind == "month":
        return f"{value:%Y-%m}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def money(cents: float) -> str:
    """Integer cents as '-1,234.56' (exact: integer arithmetic, no float rounding)."""
    cents = round(cents)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"
