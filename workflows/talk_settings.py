"""How a school's talks are held, as directie sets them: parsed from the form, described for the
settings history, and stored as plain data.

`TalkSettings` (`workflows.policy`) holds one kind of talk's length, who attends, with or without
the pupil, on site or online, and its time rules. Directie fills in one such block for the
heroverweging talk and one per conversation round; `parse_talk` turns the form's text into
settings or into Dutch errors per field (collected with the rest of the settings form, nothing
stored then); `describe_talk` is the one line the history shows; `talk_data`/`talk_from_data`
are the stored form, where every missing key (settings stored before talks could be set) takes
its default. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.policy import Attendee, TalkSettings

MINUTES = (10, 120)
MARGIN_DAYS = (0, 10)
ANSWER_DAYS = (1, 14)
REMINDER_DAYS = (0, 14)
DEFAULT = TalkSettings()


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def by_field(errors: Iterable[FieldError]) -> dict[str, str]:
    """Each field's first error, for the form (a field shows one message)."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.field, error.message)
    return found


@dataclass(frozen=True)
class TalkInput:
    """One talk block of the form, as typed (numbers as text, ticked boxes as booleans)."""

    minutes: str = str(DEFAULT.minutes)
    attendees: frozenset[str] = frozenset(a.value for a in DEFAULT.attendees)
    with_pupil: bool = DEFAULT.with_pupil
    online: bool = DEFAULT.online
    margin_working_days: str = str(DEFAULT.margin_working_days)
    answer_within_days: str = str(DEFAULT.answer_within_days)
    reminder_days_before: str = str(DEFAULT.reminder_days_before)
    separate_parents: bool = DEFAULT.separate_parents


def talk_input(talk: TalkSettings) -> TalkInput:
    """The form's block for stored settings."""
    return TalkInput(
        minutes=str(talk.minutes),
        attendees=frozenset(a.value for a in talk.attendees),
        with_pupil=talk.with_pupil,
        online=talk.online,
        margin_working_days=str(talk.margin_working_days),
        answer_within_days=str(talk.answer_within_days),
        reminder_days_before=str(talk.reminder_days_before),
        separate_parents=talk.separate_parents,
    )


def talk_field(prefix: str, name: str) -> str:
    """The form field of one talk block: `talk-reconsideration-minutes`,
    `rounds-2-talk-attendees`."""
    return f"{prefix}-{name}"


def parse_talk(given: TalkInput, prefix: str, errors: list[FieldError]) -> TalkSettings | None:
    """The settings of one talk block, or None with its errors appended to `errors`."""
    before = len(errors)
    minutes = _number(
        given.minutes,
        talk_field(prefix, "minutes"),
        MINUTES,
        "de lengte van een gesprek",
        "minuten",
        errors,
    )
    chosen = set()
    for value in sorted(given.attendees):
        attendee = next((a for a in Attendee if a.value == value), None)
        if attendee is None:
            errors.append(FieldError(talk_field(prefix, "attendees"), f"'{value}' is onbekend"))
        else:
            chosen.add(attendee)
    if not given.attendees:
        errors.append(
            FieldError(
                talk_field(prefix, "attendees"),
                "kies wie van school bij het gesprek is: zonder iemand van school is er geen "
                "gesprek",
            )
        )
    if {Attendee.CLASS_TEACHER, Attendee.ALL_CLASS_TEACHERS} <= chosen:
        errors.append(
            FieldError(
                talk_field(prefix, "attendees"),
                f"kies één van beide: “{Attendee.CLASS_TEACHER.label}” of "
                f"“{Attendee.ALL_CLASS_TEACHERS.label}”",
            )
        )
    margin = _number(
        given.margin_working_days,
        talk_field(prefix, "margin_working_days"),
        MARGIN_DAYS,
        "de marge vóór de termijn",
        "werkdagen",
        errors,
    )
    answer = _number(
        given.answer_within_days,
        talk_field(prefix, "answer_within_days"),
        ANSWER_DAYS,
        "de tijd die ouders hebben om te antwoorden",
        "dagen",
        errors,
    )
    reminder = _number(
        given.reminder_days_before,
        talk_field(prefix, "reminder_days_before"),
        REMINDER_DAYS,
        "wanneer de herinnering gaat",
        "dagen",
        errors,
    )
    if (
        len(errors) > before
        or minutes is None
        or margin is None
        or answer is None
        or reminder is None
    ):
        return None
    return TalkSettings(
        minutes=minutes,
        attendees=frozenset(chosen),
        with_pupil=given.with_pupil,
        online=given.online,
        margin_working_days=margin,
        answer_within_days=answer,
        reminder_days_before=reminder,
        separate_parents=given.separate_parents,
    )


def _number(
    text: str,
    where: str,
    bounds: tuple[int, int],
    what: str,
    unit: str,
    errors: list[FieldError],
) -> int | None:
    low, high = bounds
    cleaned = text.strip()
    if not cleaned:
        errors.append(FieldError(where, f"vul {what} in, in {unit} ({low} tot en met {high})"))
        return None
    if not cleaned.isdigit() or len(cleaned) > 4:
        errors.append(FieldError(where, f"'{cleaned}' is geen geheel getal; vul {unit} in"))
        return None
    value = int(cleaned)
    if not low <= value <= high:
        errors.append(FieldError(where, f"kies {low} tot en met {high} {unit}; {value} kan niet"))
        return None
    return value


def describe_talk(talk: TalkSettings) -> str:
    """One line in Dutch, as the settings history shows it."""
    who = ", ".join(a.label for a in Attendee if a in talk.attendees) or "niemand van school"
    parts = [
        f"{talk.minutes} minuten",
        who + (" en de leerling" if talk.with_pupil else ", zonder de leerling"),
        "online" if talk.online else "op school",
        f"klaar {_days(talk.margin_working_days, 'werkdag', 'werkdagen')} vóór de termijn",
        f"antwoord binnen {_days(talk.answer_within_days, 'dag', 'dagen')}",
        "geen herinnering"
        if talk.reminder_days_before == 0
        else f"herinnering {_days(talk.reminder_days_before, 'dag', 'dagen')} vooraf",
        "gescheiden ouders elk een eigen gesprek"
        if talk.separate_parents
        else "gescheiden ouders samen",
    ]
    return "; ".join(parts)


def _days(count: int, one: str, more: str) -> str:
    return f"{count} {one if count == 1 else more}"


def talk_data(talk: TalkSettings) -> dict[str, Any]:
    """The stored form (JSON types only; attendees sorted, so equal settings store equally)."""
    return {
        "minutes": talk.minutes,
        "attendees": sorted(a.value for a in talk.attendees),
        "with_pupil": talk.with_pupil,
        "online": talk.online,
        "margin_working_days": talk.margin_working_days,
        "answer_within_days": talk.answer_within_days,
        "reminder_days_before": talk.reminder_days_before,
        "separate_parents": talk.separate_parents,
    }


def talk_from_data(data: Mapping[str, Any] | None) -> TalkSettings:
    """Stored settings back; None or a missing key (stored before it existed): the default."""
    if not data:
        return TalkSettings()
    attendees: Iterable[str] | None = data.get("attendees")
    return TalkSettings(
        minutes=int(data.get("minutes", DEFAULT.minutes)),
        attendees=DEFAULT.attendees
        if attendees is None
        else frozenset(Attendee(a) for a in attendees),
        with_pupil=bool(data.get("with_pupil", DEFAULT.with_pupil)),
        online=bool(data.get("online", DEFAULT.online)),
        margin_working_days=int(data.get("margin_working_days", DEFAULT.margin_working_days)),
        answer_within_days=int(data.get("answer_within_days", DEFAULT.answer_within_days)),
        reminder_days_before=int(data.get("reminder_days_before", DEFAULT.reminder_days_before)),
        separate_parents=bool(data.get("separate_parents", DEFAULT.separate_parents)),
    )
