"""XLSX export: an About sheet, then one sheet per section.

Cells hold real numbers (currency units with 2 decimals from cents, ratios formatted as %,
real dates shown as months), the header row is frozen and filterable, and column widths
fit their content, so finance can sort, sum and pivot without retyping anything.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipelines.lib.finance_summary.formats import XLSX_FORMATS, cell_value, display
from pipelines.lib.finance_summary.sections import FinanceSummary

SHEET_NAMES = {
    "revenue": "Revenue",
    "ar_aging": "AR aging",
    "payment_methods": "Payment methods",
    "occupancy": "Occupancy",
}
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2F6690")


def _about(workbook: Workbook, summary: FinanceSummary) -> None:
    sheet = workbook.active
    sheet.title = "About"
    rows = [
        ("Finance summary", summary.scope_title),
        ("Period", f"{summary.first_month:%Y-%m} to {summary.last_month:%Y-%m}"),
        ("AR aging as of", summary.aging_as_of.isoformat()),
        ("Generated at (UTC)", summary.generated_at.strftime("%Y-%m-%d %H:%M")),
        ("Amounts", "in each tenant's currency (column Currency), 2 decimals; the warehouse keeps integer cents"),
        *((SHEET_NAMES[section.key], section.note) for section in summary.sections),
    ]
    for row in rows:
        sheet.append(row)
    for cell in sheet["A"]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 110
    for cell in sheet["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_xlsx(summary: FinanceSummary, path: Path) -> None:
    workbook = Workbook()
    _about(workbook, summary)
    for section in summary.sections:
        sheet = workbook.create_sheet(SHEET_NAMES[section.key])
        sheet.append([column.title for column in section.columns])
        for cell in sheet[1]:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        widths = [len(column.title) for column in section.columns]
        for row in section.rows():
            sheet.append([cell_value(value, column.kind) for value, column in zip(row, section.columns, strict=True)])
            for index, (value, column) in enumerate(zip(row, section.columns, strict=True)):
                widths[index] = max(widths[index], len(display(value, column.kind)))
        for index, column in enumerate(section.columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = min(widths[index - 1] + 3, 60)
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = XLSX_FORMATS[column.kind]
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    workbook.save(path)
