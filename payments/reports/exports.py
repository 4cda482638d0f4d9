"""Every report as CSV or Excel (.xlsx, openpyxl): headers in the page's language (Chinese by
default), amounts as numbers (not text: a spreadsheet sums them), the report's name, period
and filters in the first lines, then one blank line, then the table.

CSV is UTF-8 with a byte-order mark, so that Excel on Windows opens the Chinese correctly.
Text (a dish's, a table's or a staff member's name, a filter) is never read as a formula: in CSV
it gets the apostrophe of `restaurant.lib.spreadsheet`, in .xlsx it is stored as a string cell.
"""

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from restaurant.lib.spreadsheet import text_cell

from .tables import Report

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _head(report: Report) -> list[list[str]]:
    exported = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return [
        [_("Report"), str(report.title)],
        *[[str(label), value] for label, value in report.filters],
        [_("Exported"), exported],
    ]


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([[text_cell(cell) for cell in line] for line in _head(report)])
    writer.writerow([])
    writer.writerow([str(column.header) for column in report.columns])
    for row in report.rows:
        writer.writerow(
            [
                f"{value:.2f}" if column.kind == "money" and isinstance(value, Decimal) else
                value.isoformat() if isinstance(value, date) else "" if value is None else
                text_cell(value) if isinstance(value, str) else value
                for column, value in zip(report.columns, row, strict=True)
            ]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = str(report.title)[:31]
    for line in _head(report):
        sheet.append(line)
        _as_text(sheet[sheet.max_row])
    sheet.append([])
    sheet.append([str(column.header) for column in report.columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append(row)  # Decimal amounts are written as numbers, None as an empty cell
        _as_text(sheet[sheet.max_row])
        for column, cell in zip(report.columns, sheet[sheet.max_row], strict=True):
            if column.kind == "money":
                cell.number_format = "#,##0.00"
            elif column.kind == "percent":
                cell.number_format = "0.0"
            elif column.kind == "date":
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for i, column in enumerate(report.columns, 1):
        letter = sheet.cell(row=header_row, column=i).column_letter
        sheet.column_dimensions[letter].width = max(10, len(str(column.header)) * 2 + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_text(cells: Iterable[Any]) -> None:
    """openpyxl stores a text starting with `=` as a formula: keep every text a string."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"


def filename(report: Report, extension: str) -> str:
    first, last = report.period.first.isoformat(), report.period.last.isoformat()
    span = first if first == last else f"{first}_{last}"
    return f"{report.name}-{span}.{extension}"
