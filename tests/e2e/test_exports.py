"""Exports of the reports (issue 15, Done-when 3 for XLSX and CSV): the board's tables written as
XLSX read back with openpyxl equal the tables the pages render, cell for cell, with the chain's
integrity line on every sheet (broken after a tampered event); a table's CSV, as Dutch Excel
opens it (BOM, semicolons, decimal comma), parses back to the same rows.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import text

from bench.report_year import GeneratedYear, generate
from service.audit.integrity import check_now, status
from service.bootstrap import Container
from service.reports.exports import BOM, HEADER_ROW, to_csv, to_xlsx
from service.reports.figures import board_report
from service.reports.table import ReportTable, Value
from service.reports.tables import board_tables
from tests.conftest import Clock


@pytest.fixture
def year(container: Container, clock: Clock) -> GeneratedYear:
    def set_clock(moment: datetime) -> None:
        clock.now = moment

    return generate(container, set_clock, schools=2, pupils_per_school=60, seed=3)


def board_tables_of(container: Container, year: GeneratedYear) -> list[ReportTable]:
    ids = [s.id for s in year.schools]
    return board_tables(board_report(container.engine, ids, "2025-2026", today=year.today))


def sheets_of(data: bytes) -> list[tuple[str, list[list[Value]]]]:
    book = load_workbook(io.BytesIO(data))
    return [
        (sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
        for sheet in book.worksheets
    ]


def test_the_xlsx_read_back_equals_every_table_with_the_integrity_line_on_each_sheet(
    container: Container, year: GeneratedYear
) -> None:
    tables = board_tables_of(container, year)
    line = status(container.engine).message
    sheets = sheets_of(to_xlsx(tables, line))

    assert len(sheets) == len(tables) >= 10
    assert len({title.casefold() for title, _ in sheets}) == len(sheets)
    for (title, rows), table in zip(sheets, tables, strict=True):
        assert len(title) <= 31
        assert rows[0][0] == table.title
        assert rows[1][0] == f"Integriteit: {line}"
        assert rows[HEADER_ROW - 1][: len(table.columns)] == list(table.columns)
        body = [r[: len(table.columns)] for r in rows[HEADER_ROW:]]
        assert body == [list(r) for r in table.rows], table.key
    comparison = dict(sheets)[sheets[0][0]]
    assert comparison[HEADER_ROW - 1][-1] == "totaal"


def test_a_tampered_event_makes_every_sheet_of_the_xlsx_say_the_chain_is_broken(
    container: Container, year: GeneratedYear
) -> None:
    assert check_now(container).ok
    with container.engine.begin() as conn:
        if container.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            conn.execute(
                text("UPDATE events SET data = jsonb_set(data, '{groep}', '7') WHERE position = 1")
            )
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(
                text("UPDATE events SET data = json_set(data, '$.groep', 7) WHERE position = 1")
            )
    broken = check_now(container)
    assert broken.broken

    sheets = sheets_of(to_xlsx(board_tables_of(container, year), broken.message))

    for _, rows in sheets:
        assert "verbroken" in str(rows[1][0])
        assert re.search(r"positie 1\b", str(rows[1][0]))


def parse_cell(text_: str) -> Value:
    """A cell as Dutch Excel reads it: whole numbers, decimal-comma numbers, empty, or text."""
    if text_ == "":
        return None
    if re.fullmatch(r"-?\d+", text_):
        return int(text_)
    if re.fullmatch(r"-?\d+,\d+", text_):
        return float(text_.replace(",", "."))
    return text_


def test_each_tables_csv_is_dutch_excel_csv_that_parses_back_to_the_same_rows(
    container: Container, year: GeneratedYear
) -> None:
    line = status(container.engine).message
    tables = board_tables_of(container, year)
    assert any(isinstance(v, float) for t in tables for row in t.rows for v in row)
    for table in tables:
        data = to_csv(table, line).encode("utf-8")
        assert data.startswith(b"\xef\xbb\xbf")
        lines = list(csv.reader(io.StringIO(data.decode("utf-8").removeprefix(BOM)), delimiter=";"))
        blank = lines.index([])
        assert lines[0] == list(table.columns)
        assert [[parse_cell(c) for c in row] for row in lines[1:blank]] == [
            list(r) for r in table.rows
        ], table.key
        assert lines[blank + 1] == ["Integriteit", line]
    gap_column = "Gem. verschil toets − voorlopig (halve stappen)"
    equal = next(t for t in tables if t.key == "gelijke_kansen")
    assert "," in to_csv(equal).splitlines()[1].split(";")[equal.columns.index(gap_column)]
