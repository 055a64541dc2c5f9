"""Staff availability for a round of talks: what a teacher types, its checks, and the event.

A teacher, IB or directie publishes, per round of talks (`round_key`: "reconsideration" for the
heroverweging talks, else the round's name), the times they can hold talks: rows of a day, a time
range and a room, as a teacher thinks of them ("di 17 mrt 13:00–16:00 lokaal 8"). A row's day is
a date (17-03, 17-03-2026, di 17 mrt, 2026-03-17) or a weekday ("di": every Tuesday of the round
still to come); duo teachers each publish their own days. `parse_rows` turns the rows into
windows or into Dutch errors per field (end after start, between 07:00 and 21:00, on a working
day inside the round's period, not in the past, long enough for one talk, no overlap). The last
`AvailabilityPublished` of a person for a round replaces their earlier one (`latest`).

Pure: the moment is passed in; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows import dutch
from workflows.calendar import SchoolYear
from workflows.codec import Event, EventCodec
from workflows.cycles import ConversationRound
from workflows.policy import SchoolPolicy, TalkSettings
from workflows.talk_settings import FieldError, by_field

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RECONSIDERATION = "reconsideration"
EARLIEST, LATEST = time(7, 0), time(21, 0)
MAX_ROWS = 120
MAX_ROOM = 60
WEEKDAYS = dutch.SHORT_WEEKDAYS
WEEKDAY_NAMES = dutch.WEEKDAYS
MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_MONTH_WORDS = {
    **{m: i + 1 for i, m in enumerate(MONTHS)},
    "maa": 3,
    "maart": 3,
    "januari": 1,
    "februari": 2,
    "april": 4,
    "juni": 6,
    "juli": 7,
    "augustus": 8,
    "september": 9,
    "sept": 9,
    "oktober": 10,
    "november": 11,
    "december": 12,
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}))?$")
_WORDED = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?(?:\s+(\d{4}))?$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.u](\d{2}))?$")


# ---------------------------------------------------------------------------------------------
# The event


@dataclass(frozen=True)
class PublishedWindow:
    """A stretch `[start, end)` (aware datetimes) in `room` (None: online)."""

    start: datetime
    end: datetime
    room: str | None = None


@dataclass(frozen=True, kw_only=True)
class AvailabilityPublished(Event):
    """A person's availability for one round, as a whole: it replaces what they published for
    that round before (no windows: they withdrew it)."""

    event_type = "availability_published"

    person: str
    """The user's id."""
    round_key: str
    windows: tuple[PublishedWindow, ...]
    room: str | None
    """The room of the first window (the usual room), None when online or nothing published."""


CODEC = EventCodec([AvailabilityPublished])


def latest(
    events: Iterable[AvailabilityPublished],
) -> dict[tuple[str, str], AvailabilityPublished]:
    """Per (person, round_key) their last publication, in the order given."""
    found: dict[tuple[str, str], AvailabilityPublished] = {}
    for event in events:
        found[(event.person, event.round_key)] = event
    return found


# ---------------------------------------------------------------------------------------------
# The rounds one can publish for


@dataclass(frozen=True)
class Period:
    """A round of talks and the days its talks fall on (`first` to `last`, the deadline)."""

    key: str
    label: str
    first: date
    last: date
    talk: TalkSettings


def periods(policy: SchoolPolicy, year: SchoolYear) -> list[Period]:
    """The heroverweging period (results deadline to the final advice deadline, 15–24 March by
    default) and each groep 8 round of the school's cycle, in date order."""
    calendar = policy.calendar(year)
    found = [
        Period(
            RECONSIDERATION,
            "Heroverwegingsgesprekken",
            calendar.results_deadline,
            calendar.final_advice_deadline,
            policy.reconsideration_talk,
        )
    ]
    found += [_round_period(r, year) for r in policy.rounds if r.groep == 8]
    return sorted(found, key=lambda p: (p.first, p.label))


def _round_period(r: ConversationRound, year: SchoolYear) -> Period:
    window = r.window(year)
    return Period(r.name, r.name[:1].upper() + r.name[1:], window.first, window.last, r.talk)


# ---------------------------------------------------------------------------------------------
# What a teacher types


@dataclass(frozen=True)
class RowInput:
    day: str = ""
    start: str = ""
    end: str = ""
    room: str = ""

    @property
    def blank(self) -> bool:
        return not any(v.strip() for v in (self.day, self.start, self.end, self.room))


def row_field(index: int, name: str) -> str:
    return f"rows-{index}-{name}"


class AvailabilityInvalidError(Exception):
    """The rows' errors, each beside its field; nothing is published."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors[0].message)
        self.errors = list(errors)

    def by_field(self) -> dict[str, str]:
        return by_field(self.errors)


def parse_rows(
    rows: Sequence[RowInput], period: Period, now: datetime
) -> tuple[PublishedWindow, ...]:
    """The windows the rows give (sorted), or `AvailabilityInvalidError` with every error."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    errors: list[FieldError] = []
    today = now.astimezone(AMSTERDAM).date()
    numbered = [(i, r) for i, r in enumerate(rows) if not r.blank]
    if len(numbered) > MAX_ROWS:
        errors.append(FieldError("rows", f"ten hoogste {MAX_ROWS} regels"))
    found: list[tuple[int, PublishedWindow]] = []
    for index, row in numbered[:MAX_ROWS]:
        found += [(index, w) for w in _row(index, row, period, now, today, errors)]
    found.sort(key=lambda item: item[1].start)
    reach: tuple[int, PublishedWindow] | None = None  # the row reaching latest so far
    for index, window in found:
        if reach is not None and window.start < reach[1].end:
            errors.append(
                FieldError(
                    row_field(index, "start"),
                    f"overlapt met regel {reach[0] + 1} ({describe_window(reach[1])})",
                )
            )
        if reach is None or window.end > reach[1].end:
            reach = (index, window)
    if errors:
        raise AvailabilityInvalidError(errors)
    return tuple(w for _, w in found)


def _row(
    index: int,
    row: RowInput,
    period: Period,
    now: datetime,
    today: date,
    errors: list[FieldError],
) -> list[PublishedWindow]:
    before = len(errors)
    days = _days(row.day, row_field(index, "day"), period, today, errors)
    start = _time(row.start, row_field(index, "start"), "begintijd", errors)
    end = _time(row.end, row_field(index, "end"), "eindtijd", errors)
    if start is not None and end is not None:
        minutes = period.talk.minutes
        if end <= start:
            errors.append(
                FieldError(row_field(index, "end"), "de eindtijd ligt niet na de begintijd")
            )
        elif _minutes(end) - _minutes(start) < minutes:
            errors.append(
                FieldError(
                    row_field(index, "end"),
                    f"korter dan één gesprek ({minutes} minuten)",
                )
            )
    room: str | None = " ".join(row.room.split())
    if period.talk.online:
        room = None
    elif not room:
        errors.append(
            FieldError(
                row_field(index, "room"),
                "vul een lokaal in: de gesprekken van deze ronde zijn op school",
            )
        )
    elif len(room) > MAX_ROOM:
        errors.append(FieldError(row_field(index, "room"), f"ten hoogste {MAX_ROOM} tekens"))
    if len(errors) > before or days is None or start is None or end is None:
        return []
    windows = []
    for day in days:
        window = PublishedWindow(
            datetime.combine(day, start, AMSTERDAM), datetime.combine(day, end, AMSTERDAM), room
        )
        if window.end > now:
            windows.append(window)
    if not windows:
        errors.append(FieldError(row_field(index, "day"), "die tijd is al voorbij"))
    return windows


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _time(text: str, where: str, what: str, errors: list[FieldError]) -> time | None:
    cleaned = text.strip().lower()
    if not cleaned:
        errors.append(FieldError(where, f"vul een {what} in, bijvoorbeeld 13:00"))
        return None
    match = _TIME.match(cleaned)
    if not match or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
        errors.append(FieldError(where, f"'{text.strip()}' is geen tijd; schrijf uu:mm"))
        return None
    moment = time(int(match.group(1)), int(match.group(2) or 0))
    if not EARLIEST <= moment <= LATEST:
        errors.append(FieldError(where, f"kies een tijd tussen {EARLIEST:%H:%M} en {LATEST:%H:%M}"))
        return None
    return moment


def _days(
    text: str, where: str, period: Period, today: date, errors: list[FieldError]
) -> list[date] | None:
    cleaned = " ".join(text.strip().lower().replace(",", " ").split())
    if not cleaned:
        errors.append(FieldError(where, "vul een dag in, bijvoorbeeld 17-03 of di"))
        return None
    words = cleaned.split(" ", 1)
    weekday = _weekday(words[0].removeprefix("elke").strip() or words[-1])
    if weekday is not None and (len(words) == 1 or words[0] == "elke"):
        days = [d for d in _dates(max(period.first, today), period.last) if d.weekday() == weekday]
        if not days:
            errors.append(
                FieldError(where, f"er is geen {WEEKDAY_NAMES[weekday]} meer in de periode")
            )
            return None
        return days
    named = None
    if weekday is not None:
        named, cleaned = weekday, words[1]
    day = _date(cleaned, period)
    if day is None:
        errors.append(
            FieldError(
                where,
                f"'{text.strip()}' is geen dag; schrijf bijvoorbeeld 17-03, di 17 mrt of di",
            )
        )
        return None
    if named is not None and day.weekday() != named:
        errors.append(
            FieldError(
                where,
                f"{day:%d-%m-%Y} is een {WEEKDAY_NAMES[day.weekday()]}, "
                f"geen {WEEKDAY_NAMES[named]}",
            )
        )
        return None
    if not period.first <= day <= period.last:
        errors.append(
            FieldError(
                where,
                f"{day:%d-%m-%Y} valt buiten de periode ({period.first:%d-%m-%Y} t/m "
                f"{period.last:%d-%m-%Y})",
            )
        )
        return None
    if day.weekday() >= 5:
        errors.append(
            FieldError(where, f"op {WEEKDAY_NAMES[day.weekday()]} worden geen gesprekken gepland")
        )
        return None
    if day < today:
        errors.append(FieldError(where, f"{day:%d-%m-%Y} is al voorbij"))
        return None
    return [day]


def _weekday(word: str) -> int | None:
    word = word.strip(".")
    for index, (short, name) in enumerate(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)):
        if word in (short, name):
            return index
    return None


def _dates(first: date, last: date) -> list[date]:
    found, day = [], first
    while day <= last:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def _date(text: str, period: Period) -> date | None:
    """A date; without a year, the year in which it falls inside the period (else the first's)."""
    year: int | None
    iso, numeric, worded = _ISO.match(text), _NUMERIC.match(text), _WORDED.match(text)
    if iso:
        year, month, day = int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    elif numeric:
        day, month = int(numeric.group(1)), int(numeric.group(2))
        year = int(numeric.group(3)) if numeric.group(3) else None
    elif worded and worded.group(2) in _MONTH_WORDS:
        day, month = int(worded.group(1)), _MONTH_WORDS[worded.group(2)]
        year = int(worded.group(3)) if worded.group(3) else None
    else:
        return None
    years = [year] if year is not None else sorted({period.first.year, period.last.year})
    for candidate in years:
        try:
            found = date(candidate, month, day)
        except ValueError:
            return None
        if period.first <= found <= period.last or candidate == years[-1]:
            return found
    return None


# ---------------------------------------------------------------------------------------------
# Back to rows, and in words


def rows_of(windows: Iterable[PublishedWindow]) -> list[RowInput]:
    """The form's rows for published windows, one per window."""
    rows = []
    for window in windows:
        start, end = window.start.astimezone(AMSTERDAM), window.end.astimezone(AMSTERDAM)
        rows.append(
            RowInput(
                f"{WEEKDAYS[start.weekday()]} {start:%d-%m-%Y}",
                f"{start:%H:%M}",
                f"{end:%H:%M}",
                window.room or "",
            )
        )
    return rows


def weekly(day_text: str) -> bool:
    """Whether a row's day is a weekday ("di", "elke di"): it holds for every week already."""
    words = " ".join(day_text.strip().lower().split()).split(" ")
    if words[0] == "elke":
        words = words[1:]
    return len(words) == 1 and _weekday(words[0]) is not None


def next_week(row: RowInput, period: Period, today: date) -> RowInput | None:
    """The same row a week later (the "same weekday next week" convenience), or None when the
    row's day cannot be read or next week falls outside the period."""
    days = _days(row.day, "day", period, today, [])
    if not days or len(days) != 1:
        return None
    later = days[0] + timedelta(days=7)
    if later > period.last:
        return None
    return RowInput(f"{WEEKDAYS[later.weekday()]} {later:%d-%m-%Y}", row.start, row.end, row.room)


def describe_window(window: PublishedWindow) -> str:
    start, end = window.start.astimezone(AMSTERDAM), window.end.astimezone(AMSTERDAM)
    when = (
        f"{WEEKDAYS[start.weekday()]} {start.day} {MONTHS[start.month - 1]} "
        f"{start:%H:%M}–{end:%H:%M}"
    )
    return f"{when} {window.room}" if window.room else f"{when} online"


def slots(window: PublishedWindow, minutes: int) -> int:
    """How many talks of `minutes` fit in the window back to back."""
    return int((window.end - window.start) / timedelta(minutes=minutes))
