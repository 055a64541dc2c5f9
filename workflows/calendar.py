"""The legal school-year calendar: which dates the law sets for the groep 8 advice, per school year.

The ministry publishes a new tijdpad every spring, so the dates are data, not code: one
`LegalCalendar` per school year, with the years we know filled in and every later year derived from
the pattern of the law (Wet doorstroomtoetsen po, since 2023-24) and marked as assumed. A date
that is not yet published (e.g. the test window) is None until a school or the ministry sets it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from workflows.enums import Timeliness
from workflows.errors import DomainError

SCHOOL_ZONE = ZoneInfo("Europe/Amsterdam")
"""Dutch schools' time: a date someone records ("today") is the date in the Netherlands."""


def school_day(moment: datetime) -> date:
    """The date at the school at `moment`. Between 00:00 and 02:00 Dutch time the UTC date is
    still yesterday's, so `moment.date()` of a UTC time would call today's date the future."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(SCHOOL_ZONE).date()


_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
# School years the service accepts: room for historical imports, none for typing errors such as
# 0000-0001 (which no calendar date can even represent).
FIRST_YEAR, LAST_YEAR = 1950, 2199


@dataclass(frozen=True, order=True)
class SchoolYear:
    """A school year such as 2025-2026, running from 1 August to 31 July."""

    start_year: int

    @classmethod
    def parse(cls, text: str) -> SchoolYear:
        match = _SCHOOL_YEAR.match(text.strip())
        if (
            not match
            or int(match.group(2)) != int(match.group(1)) + 1
            or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR
        ):
            raise DomainError(
                "school_year_invalid",
                f"'{text}' is geen schooljaar; schrijf het als 2025-2026",
                field="school_year",
            )
        return cls(int(match.group(1)))

    @classmethod
    def containing(cls, day: date) -> SchoolYear:
        return cls(day.year if day.month >= 8 else day.year - 1)

    @property
    def first_day(self) -> date:
        return date(self.start_year, 8, 1)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, 7, 31)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}"


@dataclass(frozen=True)
class DateWindow:
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class LegalCalendar:
    """The dates the law sets for one school year's groep 8."""

    school_year: SchoolYear
    test_registration_deadline: date
    provisional_advice_window: DateWindow
    test_window: DateWindow | None
    results_deadline: date
    final_advice_deadline: date
    registration_week: DateWindow
    assumed: frozenset[str] = field(default=frozenset())
    """Names of the dates that follow the pattern of the law but are not (yet) published."""


def _by_pattern(year: SchoolYear) -> LegalCalendar:
    y0, y1 = year.start_year, year.start_year + 1
    return LegalCalendar(
        school_year=year,
        test_registration_deadline=date(y0, 11, 15),
        provisional_advice_window=DateWindow(date(y1, 1, 10), date(y1, 1, 31)),
        test_window=None,
        results_deadline=date(y1, 3, 15),
        final_advice_deadline=date(y1, 3, 24),
        registration_week=DateWindow(date(y1, 3, 25), date(y1, 3, 31)),
        assumed=frozenset(
            {
                "test_registration_deadline",
                "provisional_advice_window",
                "results_deadline",
                "final_advice_deadline",
                "registration_week",
            }
        ),
    )


# Published tijdpad (Rijksoverheid / DUO); see docs/domain-decisions.md for the sources.
_PUBLISHED: dict[SchoolYear, LegalCalendar] = {
    SchoolYear(2024): LegalCalendar(
        school_year=SchoolYear(2024),
        test_registration_deadline=date(2024, 11, 15),
        provisional_advice_window=DateWindow(date(2025, 1, 10), date(2025, 1, 31)),
        test_window=DateWindow(date(2025, 1, 27), date(2025, 2, 16)),
        results_deadline=date(2025, 3, 15),
        final_advice_deadline=date(2025, 3, 24),
        registration_week=DateWindow(date(2025, 3, 25), date(2025, 3, 31)),
    ),
    SchoolYear(2025): replace(
        _by_pattern(SchoolYear(2025)),
        assumed=frozenset({"provisional_advice_window"}),
    ),
}


def timeliness_in(day: date, first: date | None, last: date) -> Timeliness:
    """On time inside [first, last]; early before `first` (when there is one), late after `last`."""
    if first is not None and day < first:
        return Timeliness.EARLY
    return Timeliness.LATE if day > last else Timeliness.ON_TIME


def legal_calendar(year: SchoolYear) -> LegalCalendar:
    """The legal dates of `year`: published where known, otherwise the law's pattern (assumed)."""
    return _PUBLISHED.get(year) or _by_pattern(year)
