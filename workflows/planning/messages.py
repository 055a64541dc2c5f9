"""The Dutch a teacher reads when a talk cannot be planned or a chosen time is refused: dates
as "dinsdag 17 maart om 14:00" (in the time zone of the request's `earliest`), people and rooms
by the names the caller passes (ids otherwise), groups of duo teachers as "A of B".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from types import MappingProxyType

from workflows.dutch import day_and_month

NO_NAMES: Mapping[str, str] = MappingProxyType({})


def day(moment: datetime, zone: tzinfo) -> str:
    return day_and_month(moment.astimezone(zone))


def clock(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def when(moment: datetime, zone: tzinfo) -> str:
    """`dinsdag 17 maart om 14:00`."""
    return f"{day(moment, zone)} om {clock(moment, zone)}"


def until(moment: datetime, zone: tzinfo) -> str:
    """`uiterlijk` + this: `dinsdag 17 maart om 14:00`, or `dinsdag 17 maart` for the end of a
    day (a latest end kept as the next midnight is not "woensdag 18 maart om 00:00")."""
    local = moment.astimezone(zone)
    if local.hour == local.minute == local.second == local.microsecond == 0:
        return f"op {day(local - timedelta(days=1), zone)}"
    return when(moment, zone)


def name(person: str, names: Mapping[str, str]) -> str:
    return names.get(person, person)


def either(people: Sequence[str], names: Mapping[str, str]) -> str:
    """`A`, `A of B`, `A, B of C`."""
    return _join([name(p, names) for p in people], "of")


def together(people: Sequence[str], names: Mapping[str, str]) -> str:
    """`A`, `A en B`, `A, B en C`."""
    return _join([name(p, names) for p in people], "en")


def _join(words: Sequence[str], last: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
