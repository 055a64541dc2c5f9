"""A report's tables as files: CSV for one table, XLSX (openpyxl) for all of them.

CSV: as Dutch Excel opens it by double-click — semicolon-separated, decimal comma, UTF-8 with a
byte-order mark (without it Excel reads UTF-8 as Windows-1252 and "vóór" breaks), CRLF line ends.
The first line holds the columns, then one line per row; after an empty line the integrity status
line follows when one is given ("Integriteit;..."). XLSX: one sheet per table, in order; each
sheet holds the title (A1), the integrity status line (A2), the note (A3), the columns on row
`HEADER_ROW` and the rows below it, numbers as numbers, "not applicable" as an empty cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from service.reports.table import ReportTable, Value

BOM = "\ufeff"
DELIMITER = ";"
HEADER_ROW = 5
INTEGRITY_LABEL = "Integriteit"


def csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value}".replace(".", ",")
    return str(value)


def to_csv(table: ReportTable, integrity_line: str | None = None) -> str:
    """The table as Dutch-Excel CSV text (starting with the BOM; encode it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(csv_value(v) for v in row)
    if integrity_line is not None:
        writer.writerow([])
        writer.writerow([INTEGRITY_LABEL, integrity_line])
    return BOM + out.getvalue()


_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (at most 31 characters, none of []:*?/\\), unique."""
    base = _NOT_IN_SHEET_NAMES.sub("-", title).strip() or "Tabel"
    name, n = base[:31], 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def to_xlsx(tables: Sequence[ReportTable], integrity_line: str) -> bytes:
    """The tables as an XLSX workbook, one sheet per table, each with the integrity line."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(sheet_name(table.title, taken))
        sheet["A1"] = table.title
        sheet["A1"].font = Font(bold=True, size=13)
        sheet["A2"] = f"{INTEGRITY_LABEL}: {integrity_line}"
        if table.note:
            sheet["A3"] = table.note
        for c, column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=HEADER_ROW, column=c, value=column)
            cell.font = bold
        for r, row in enumerate(table.rows, start=HEADER_ROW + 1):
            for c, value in enumerate(row, start=1):
                sheet.cell(row=r, column=c, value=value)
        sheet.column_dimensions["A"].width = max(
            12, min(60, max((len(str(row[0])) for row in table.rows), default=10) + 2)
        )
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
