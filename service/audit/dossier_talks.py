"""The dossier's talks in Dutch: each event of a talk stream (`conversation-<talk_id>`) as a line
of the history (what, when, why), and what it says about who was informed when.

The talk's free text (reasons, the parents' messages and zienswijze, the notes of the talk) is
sealed with the pupil's key; the caller opens it (`service.scheduling.sealing.open_events`)
before it reaches these functions, so an erased pupil reads `[gewist]` here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from workflows.codec import Event
from workflows.conversations import events as te
from workflows.dutch import last_day, periods_in_words

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_INVITATION = {
    te.InvitationKind.INVITATION: "Uitnodiging",
    te.InvitationKind.UPDATE: "Gewijzigde uitnodiging",
    te.InvitationKind.CANCEL: "Afzegging",
    te.InvitationKind.REMINDER: "Herinnering",
}


@dataclass(frozen=True)
class TalkText:
    what: str
    on: date | None = None
    details: tuple[str, ...] = ()
    why: str | None = None
    why_label: str = "Toelichting"


def moment(value: datetime) -> str:
    """A moment as a Dutch reader expects it: 16-03-2026 15:00 (Europe/Amsterdam)."""
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


def _place(room: str | None) -> str:
    return f"in {room}" if room else "online"


def describe_talk_event(event: Event, parent: Callable[[str | None], str]) -> TalkText:
    """What a talk event says, in Dutch; `parent` names a parent id (None: the school)."""
    if isinstance(event, te.TalkRequested):
        return TalkText(
            f"{event.kind.label.capitalize()} aangevraagd",
            details=(f"Te voeren uiterlijk op {last_day(event.latest_end, AMSTERDAM):%d-%m-%Y}.",),
        )
    if isinstance(event, te.TalkPlanned):
        by = " door de planner" if event.by_planner else ""
        return TalkText(
            f"Gesprek{by} voorgesteld op {moment(event.start)} {_place(event.room)}",
            event.planned_on.astimezone(AMSTERDAM).date(),
        )
    if isinstance(event, te.TalkMoved):
        asked = ("Op verzoek van de ouders.",) if event.asked_by_parents else ()
        return TalkText(
            f"Gesprek verzet naar {moment(event.start)} {_place(event.room)}",
            event.moved_on.astimezone(AMSTERDAM).date(),
            asked,
            why=event.reason,
        )
    if isinstance(event, te.TalkCancelled):
        return TalkText(
            "Gesprek afgezegd", event.cancelled_on.astimezone(AMSTERDAM).date(), why=event.reason
        )
    if isinstance(event, te.InvitationSent):
        return TalkText(
            f"{_INVITATION[event.kind]} per e-mail verstuurd aan {parent(event.parent_id)}",
            event.sent_on.astimezone(AMSTERDAM).date(),
        )
    if isinstance(event, te.ParentsAccepted):
        return TalkText(
            f"{parent(event.parent_id)} bevestigt het voorgestelde moment",
            event.on.astimezone(AMSTERDAM).date(),
        )
    if isinstance(event, te.ParentsAskedOtherTime):
        times = tuple(
            f"Kan niet: {line}." for line in periods_in_words(event.unavailable, AMSTERDAM)
        )
        return TalkText(
            f"{parent(event.parent_id)} vraagt een ander moment",
            event.on.astimezone(AMSTERDAM).date(),
            times,
            why=event.message,
            why_label="Bericht",
        )
    if isinstance(event, te.ParentsDeclined):
        return TalkText(
            f"{parent(event.parent_id)}: geen gesprek gewenst",
            event.on.astimezone(AMSTERDAM).date(),
            why=event.message,
            why_label="Bericht",
        )
    if isinstance(event, te.ParentsViewGiven):
        return TalkText(
            f"Zienswijze van {parent(event.parent_id)}",
            event.on.astimezone(AMSTERDAM).date(),
            why=event.text,
            why_label="Zienswijze",
        )
    if isinstance(event, te.TalkHeld):
        present = ", ".join(p.label for p in event.attendees)
        return TalkText(
            "Gesprek gevoerd",
            event.held_on,
            (f"Aanwezig: {present}.",) if present else (),
            why=event.notes,
            why_label="Verslag",
        )
    if isinstance(event, te.ReminderSent):
        return TalkText(
            "Herinnering aan het gesprek verstuurd", event.on.astimezone(AMSTERDAM).date()
        )
    if isinstance(event, te.TalkEscalated):
        return TalkText(
            "Directie gewaarschuwd: het gesprek komt in gevaar",
            event.on.astimezone(AMSTERDAM).date(),
            why=event.message,
        )
    return TalkText(event.event_type.replace("_", " "))


@dataclass(frozen=True)
class Informed:
    """Someone told something about the pupil: when, who (name, role), how and what."""

    at: datetime | None
    who: str
    role: str
    how: str
    what: str
    state: str
    """verzonden, wacht op verzending or mislukt (with the reason's gist)."""


def informed_by_talk(event: Event, parent: Callable[[str | None], str]) -> Informed | None:
    """Who a talk event says was informed: a parent sent an invitation (directie's warnings are
    read from their e-mails in the outbox, which name each person)."""
    if isinstance(event, te.InvitationSent):
        return Informed(
            event.sent_on,
            parent(event.parent_id),
            "ouder/verzorger",
            "e-mail met agenda-uitnodiging",
            _INVITATION[event.kind].lower() + " voor het gesprek",
            "verzonden",
        )
    return None
