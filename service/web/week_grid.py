"""The week calendar's grid: which days and rows it shows, and per day the lanes of cells.

Rows are time slots of a quarter of an hour, or five minutes when a talk or an availability
window does not start on a quarter; the day runs from 08:00 to 17:00 and further when something
is on it. Each talk is a cell spanning its rows; talks at the same time get lanes side by side
(as few as keep them from overlapping). A free cell knows whether it lies in the person's
published availability and its own moment (where a dragged talk lands). The weekend is shown
only when something is on it. Pure: blocks and windows in, the grid out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from service.web.pages import DUTCH
from workflows.dutch import SHORT_WEEKDAYS, WEEKDAYS

if TYPE_CHECKING:
    from service.web.calendar import Block

DAY_START = time(8, 0)
DAY_END = time(17, 0)


@dataclass(frozen=True)
class Cell:
    """One cell of a lane in one row: a talk (spanning rows), or an empty slot."""

    block: Block | None = None
    rows: int = 1
    free: bool = False  # inside the person's published availability
    start: str = ""  # the slot's moment (for dragging a talk here), local ISO without zone


@dataclass
class Day:
    day: date
    today: bool
    lanes: list[list[Cell | None]] = field(default_factory=list)  # None: covered by a talk above
    blocks: list[Block] = field(default_factory=list)

    @property
    def name(self) -> str:
        return WEEKDAYS[self.day.weekday()]

    @property
    def short(self) -> str:
        return f"{SHORT_WEEKDAYS[self.day.weekday()]} {self.day:%d-%m}"


@dataclass
class Grid:
    days: list[Day]
    slot: int  # minutes per row
    first: time
    rows: int

    def label(self, row: int) -> str:
        moment = datetime.combine(date.min, self.first) + timedelta(minutes=row * self.slot)
        return f"{moment:%H:%M}"

    def full_hour(self, row: int) -> bool:
        return (self.first.minute + row * self.slot) % 60 == 0


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _lanes(blocks: Sequence[Block]) -> list[list[Block]]:
    """Talks of one day in as few side-by-side lanes as keep them from overlapping."""
    lanes: list[list[Block]] = []
    for block in sorted(blocks, key=lambda b: (b.start, b.end)):
        for lane in lanes:
            if lane[-1].end <= block.start:
                lane.append(block)
                break
        else:
            lanes.append([block])
    return lanes or [[]]


def build_grid(
    monday: date,
    blocks: Sequence[Block],
    free: Sequence[tuple[datetime, datetime]],
    today: date,
) -> Grid:
    """The week's grid: which days, which rows, and per day its lanes of cells."""
    free_local = [(a.astimezone(DUTCH), b.astimezone(DUTCH)) for a, b in free]
    days = [monday + timedelta(days=i) for i in range(7)]
    busy = {b.start.date() for b in blocks} | {a.date() for a, _ in free_local}
    shown = [d for d in days if d.weekday() < 5 or d in busy]
    moments = [m for b in blocks for m in (b.start, b.end)] + [m for w in free_local for m in w]
    moments = [m for m in moments if m.date() in shown]
    slot = 15 if all(m.minute % 15 == 0 for m in moments) else 5
    first = min([_minutes(DAY_START)] + [_minutes(m.time()) // 60 * 60 for m in moments])
    last = max(
        [_minutes(DAY_END)] + [-(-(_minutes(m.time()) or 24 * 60) // 60) * 60 for m in moments]
    )
    rows = (last - first) // slot
    grid = Grid([], slot, time(first // 60, first % 60), rows)
    for day in shown:
        mine = [b for b in blocks if b.start.date() == day]
        entry = Day(day, day == today, blocks=mine)
        day_free = [(a, b) for a, b in free_local if a.date() == day]
        for lane in _lanes(mine):
            cells: list[Cell | None] = []
            for row in range(rows):
                minute = first + row * slot
                moment = datetime.combine(day, time(minute // 60, minute % 60), DUTCH)
                cells.append(
                    Cell(
                        free=any(a <= moment < b for a, b in day_free),
                        start=moment.strftime("%Y-%m-%dT%H:%M"),
                    )
                )
            for block in lane:
                top = (_minutes(block.start.time()) - first) // slot
                end_minute = _minutes(block.end.time()) if block.end.date() == day else last
                span = max(1, min(rows, -(-(end_minute - first) // slot)) - top)
                cells[top] = Cell(block=block, rows=span)
                for covered in range(top + 1, top + span):
                    cells[covered] = None
            entry.lanes.append(cells)
        grid.days.append(entry)
    return grid
