"""Time as whole minutes since a fixed epoch, and sets of minutes as sorted, disjoint half-open
spans `(start, end)`. The planner converts every aware datetime to minutes once, works on
integers (what CP-SAT needs), and converts back at the end; any time zone works, as long as
the datetimes are aware.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Span = tuple[int, int]


def to_minute(moment: datetime, *, up: bool = False) -> int:
    """Whole minutes since the epoch, rounded down (or up: a window starting at 14:00:30 is
    usable from 14:01)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the planner needs aware datetimes, got {moment!r}")
    seconds = (moment - EPOCH) // timedelta(seconds=1)
    return -(-seconds // 60) if up else seconds // 60


def zone_of(moment: datetime) -> tzinfo:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the planner needs aware datetimes, got {moment!r}")
    return moment.tzinfo


def to_datetime(minute: int, zone: tzinfo) -> datetime:
    return (EPOCH + timedelta(minutes=minute)).astimezone(zone)


def local_day(minute: int, zone: tzinfo) -> date:
    return to_datetime(minute, zone).date()


def minutes_of(duration: timedelta) -> int:
    return -(-duration // timedelta(minutes=1))


def normalise(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with overlapping and touching spans merged, empty ones dropped."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """`a` without `b` (both normalised)."""
    out: list[Span] = []
    j = 0
    for start, end in a:
        cursor = start
        while j < len(b) and b[j][1] <= cursor:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def starts_in(spans: Sequence[Span], duration: int, step: int) -> list[int]:
    """Every start on the `step` grid (multiples of `step` since the epoch) such that the whole
    talk `[start, start + duration)` lies inside one span."""
    starts: list[int] = []
    for start, end in spans:
        first = -(-start // step) * step
        starts.extend(range(first, end - duration + 1, step))
    return starts


def spans_from_starts(starts: Sequence[int], duration: int) -> list[Span]:
    return normalise((s, s + duration) for s in starts)


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def runs(values: Sequence[int]) -> list[list[int]]:
    """Sorted distinct integers as closed intervals `[a, b]` of consecutive values (a domain)."""
    found: list[list[int]] = []
    for value in values:
        if found and value == found[-1][1] + 1:
            found[-1][1] = value
        else:
            found.append([value, value])
    return found
