"""What every rule needs: the state, policy and time of one decision, and the common checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from workflows.calendar import LegalCalendar, SchoolYear, school_day, timeliness_in
from workflows.codec import Event, PersonalText
from workflows.enums import FinalAdviceBasis, Timeliness
from workflows.errors import DomainError
from workflows.events import FinalAdviceGiven
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice
from workflows.trajectory import Trajectory

MAX_TEXT = 5000


@dataclass(frozen=True)
class Context:
    state: Trajectory
    policy: SchoolPolicy
    now: datetime

    @property
    def year(self) -> SchoolYear:
        if self.state.school_year is None:
            raise DomainError("pupil_not_enrolled", "deze leerling volgt geen adviestraject")
        return self.state.school_year

    @property
    def calendar(self) -> LegalCalendar:
        return self.policy.calendar(self.year)

    def happened(self, day: date, field: str, year: SchoolYear | None = None) -> date:
        """A date of something that already happened, inside the pupil's school year."""
        if day > school_day(self.now):
            raise DomainError(
                "date_in_future",
                f"{day.isoformat()} ligt in de toekomst; leg vast wat al gebeurd is",
                field=field,
            )
        return self.within_year(day, field, year)

    def within_year(self, day: date, field: str, year: SchoolYear | None = None) -> date:
        year = year or self.year
        if day not in year:
            raise DomainError(
                "date_outside_school_year",
                f"{day.isoformat()} valt niet in schooljaar {year}",
                field=field,
            )
        return day

    def by_final_deadline(self, day: date) -> Timeliness:
        return timeliness_in(day, None, self.calendar.final_advice_deadline)

    def final_advice(self, advice: SchoolAdvice, on: date, basis: FinalAdviceBasis) -> Event:
        return FinalAdviceGiven(
            advice=advice, given_on=on, basis=basis, timeliness=self.by_final_deadline(on)
        )


def required_text(value: str | None, field: str, code: str, message: str) -> PersonalText:
    text = (value or "").strip()
    if not text:
        raise DomainError(code, message, field=field)
    if len(text) > MAX_TEXT:
        raise DomainError("text_too_long", f"maximaal {MAX_TEXT} tekens", field=field)
    return PersonalText(text)


def optional_text(value: str | None, field: str) -> PersonalText | None:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise DomainError("text_too_long", f"maximaal {MAX_TEXT} tekens", field=field)
    return PersonalText(text) if text else None
