"""Dutch names of weekdays and months, and dates written out as a teacher or parent reads them
("dinsdag 17 maart", "dinsdag 17 maart 2026"). Pure: the caller puts a moment in its zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Protocol

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
SHORT_WEEKDAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def day_and_month(day: date) -> str:
    """`dinsdag 17 maart` (a datetime: its own wall-clock date)."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def long_date(day: date) -> str:
    """`dinsdag 17 maart 2026`."""
    return f"{day_and_month(day)} {day.year}"


class _Span(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


def period_in_words(start: datetime, end: datetime, zone: tzinfo) -> str:
    """ "dinsdag 17-03-2026 12:00–17:00", or from one day to another with both days."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    day = f"{WEEKDAYS[first.weekday()]} {first:%d-%m-%Y}"
    if first.date() == last.date():
        return f"{day} {first:%H:%M}–{last:%H:%M}"
    return f"{day} {first:%H:%M} tot {WEEKDAYS[last.weekday()]} {last:%d-%m-%Y} {last:%H:%M}"


def periods_in_words(periods: Iterable[_Span], zone: tzinfo) -> tuple[str, ...]:
    """The periods in words, in time order; the same part of a day every week (the parents'
    page turns "dinsdagmiddag" into every Tuesday afternoon until the deadline) as one line,
    "elke dinsdag 12:00–17:00 (08-12-2026 t/m 23-03-2027)", not one line per week. Shared by
    the talk page and the dossier."""
    weekly: dict[tuple[int, time, time], list[date]] = {}
    lines: list[tuple[date, str]] = []
    for p in periods:
        first, last = p.start.astimezone(zone), p.end.astimezone(zone)
        if first.date() == last.date():
            weekly.setdefault((first.weekday(), first.time(), last.time()), []).append(first.date())
        else:
            lines.append((first.date(), period_in_words(p.start, p.end, zone)))
    for (weekday, begin, end), days in weekly.items():
        days.sort()
        hours = f"{begin:%H:%M}–{end:%H:%M}"
        if len(days) > 1 and all(b - a == timedelta(days=7) for a, b in pairwise(days)):
            text = f"elke {WEEKDAYS[weekday]} {hours} ({days[0]:%d-%m-%Y} t/m {days[-1]:%d-%m-%Y})"
            lines.append((days[0], text))
        else:
            lines += [(day, f"{WEEKDAYS[weekday]} {day:%d-%m-%Y} {hours}") for day in days]
    return tuple(text for _, text in sorted(lines))


def last_day(deadline: datetime, zone: tzinfo) -> date:
    """The last day of a deadline stored as the next midnight (the end of that day) in `zone`."""
    return (deadline.astimezone(zone) - timedelta(microseconds=1)).date()
