"""What every report is made of: a `Figure` (a count with the pupils behind it) and a
`ReportTable` (title, columns, rows), the one shape the pages, the CSV and the XLSX all render.

A table's cells are plain values (text, whole numbers, decimals, or None for "not applicable");
`pupils` maps a cell (row index, column index) to the ids of the pupils counted in it, so a page
can follow a figure to the pupils behind it. Suppressed cells (groups under five pupils) are the
text "< 5" and carry no pupils.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Value = str | int | float | None
SUPPRESSED = "< 5"
"""What a group under five pupils shows instead of its number."""
MIN_GROUP = 5


@dataclass(frozen=True)
class Figure:
    """A count, and the pupils (ids, sorted) it counts."""

    pupils: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.pupils)

    @classmethod
    def of(cls, pupil_ids: Iterable[str]) -> Figure:
        return cls(tuple(sorted(set(pupil_ids))))

    def __add__(self, other: Figure) -> Figure:
        return Figure.of((*self.pupils, *other.pupils))


NO_PUPILS = Figure()
"""The count of nobody (shared: a figure is immutable)."""


@dataclass(frozen=True)
class ReportTable:
    """A titled table; `key` is a stable name (for links, sheet order and tests), `note` a
    sentence under it (what is counted, the source)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    key: str = ""
    note: str = ""
    pupils: Mapping[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)

    def cell(self, row_label: str, column: str) -> Value:
        """The value in the row whose first cell is `row_label`, under `column`."""
        index = self.columns.index(column)
        for row in self.rows:
            if row[0] == row_label:
                return row[index]
        raise KeyError(row_label)

    def pupils_in(self, row_label: str, column: str) -> tuple[str, ...]:
        index = self.columns.index(column)
        for r, row in enumerate(self.rows):
            if row[0] == row_label:
                return tuple(self.pupils.get((r, index), ()))
        raise KeyError(row_label)


class TableBuilder:
    """Rows added one at a time, each cell a value or a `Figure` (its count, its pupils)."""

    def __init__(self, title: str, columns: Sequence[str], *, key: str, note: str = "") -> None:
        self.title, self.columns, self.key, self.note = title, tuple(columns), key, note
        self._rows: list[tuple[Value, ...]] = []
        self._pupils: dict[tuple[int, int], tuple[str, ...]] = {}

    def add(self, *cells: Value | Figure) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.key}: {len(cells)} cells for {len(self.columns)} columns")
        r = len(self._rows)
        values: list[Value] = []
        for c, cell in enumerate(cells):
            if isinstance(cell, Figure):
                values.append(cell.count)
                if cell.pupils:
                    self._pupils[(r, c)] = cell.pupils
            else:
                values.append(cell)
        self._rows.append(tuple(values))

    def build(self) -> ReportTable:
        return ReportTable(
            self.title, self.columns, tuple(self._rows), self.key, self.note, dict(self._pupils)
        )
