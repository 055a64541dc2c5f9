"""A pupil's history as people read it: each fact in Dutch, who recorded it (name and role, never
an account id), when, and why (the motivation, reason or notes written with it).

The typed events are described one by one; the envelope of each stored event gives who and when.
Account ids are resolved to names in one query; an id that no longer has an account reads as
"onbekend account", never as the id itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from service.accounts.roles import Role
from service.store.engine import single_statements
from service.store.events import StoredEvent
from service.store.schema import users
from workflows import events as ev
from workflows.codec import Event
from workflows.enums import Timeliness

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
SYSTEM_ACTORS = {
    "demo-seed": "demogegevens",
    "talk-planner": "de gesprekkenplanner",
    "talk-mail": "de e-mailverzending",
}
"""The service's own actors as a reader reads them (the pupil page and the dossier alike)."""
_SYSTEM_ROLE = "systeem"
_DUTCH = ZoneInfo("Europe/Amsterdam")  # a planned time reads in Dutch time, not as stored (UTC)


@dataclass(frozen=True)
class Entry:
    recorded_at: datetime
    what: str
    on: date | None = None
    details: tuple[str, ...] = ()
    why: str | None = None
    flag: str | None = None
    who: str = ""
    role: str = ""


@dataclass(frozen=True)
class _Text:
    what: str
    on: date | None = None
    details: tuple[str, ...] = ()
    why: str | None = None
    timeliness: Timeliness | None = None


def _d(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def describe(event: Event) -> _Text:  # noqa: PLR0912 - one case per fact, read as a table
    """What the fact says, in Dutch."""
    if isinstance(event, ev.PupilEnrolled):
        return _Text(
            f"Ingeschreven in groep {event.groep} (schooljaar {event.school_year})",
            event.enrolled_on,
        )
    if isinstance(event, ev.PupilEnteredGroep8):
        return _Text(f"Naar groep 8 (schooljaar {event.school_year})", event.entered_on)
    if isinstance(event, ev.OrientationAdviceGiven):
        return _Text(f"Oriënterend advies: {event.advice.label}", event.given_on)
    if isinstance(event, ev.ProvisionalAdviceGiven):
        return _Text(
            f"Voorlopig schooladvies: {event.advice.label}",
            event.given_on,
            why=event.motivation,
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.ProvisionalAdviceCorrected):
        return _Text(
            f"Voorlopig schooladvies gecorrigeerd naar {event.advice.label}",
            event.corrected_on,
            why=event.reason,
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.OkrConversationHeld):
        saw = "hebben" if event.parents_saw_okr else "hebben niet"
        return _Text(
            "OKR-gesprek gevoerd",
            event.held_on,
            (f"De ouders {saw} het onderwijskundig rapport ingezien.",),
            why=event.parents_view,
        )
    if isinstance(event, ev.ExemptionGranted):
        parents = "geraadpleegd" if event.parents_consulted else "geïnformeerd"
        return _Text(
            f"Vrijgesteld van de doorstroomtoets: {event.ground.label}",
            event.decided_on,
            (f"Ouders {parents}.",),
        )
    if isinstance(event, ev.TestMissed):
        return _Text("Verhinderd bij de doorstroomtoets", event.missed_on, why=event.reason)
    if isinstance(event, ev.CatchUpTestPlanned):
        late = ("Later dan drie weken na de toets.",) if event.late else ()
        return _Text(f"Inhaaltoets gepland op {_d(event.planned_on)}", event.planned_on, late)
    if isinstance(event, ev.NoTestResultRecorded):
        return _Text("Er komt geen toetsuitslag", event.recorded_on, why=event.reason)
    if isinstance(event, ev.TestResultReceived):
        levels = ", ".join(f"{r.domain} {r.level}" for r in event.reference_levels)
        return _Text(
            f"Toetsuitslag ontvangen ({event.provider}): toetsadvies {event.test_advice.label}",
            event.received_on,
            (f"Referentieniveaus: {levels}.",) if levels else (),
        )
    if isinstance(event, ev.ReconsiderationRequired):
        return _Text(
            f"Heroverweging nodig: toetsadvies {event.test_advice.label} is hoger dan "
            f"{event.current_advice.label}",
            details=(f"Uiterlijk {_d(event.deadline)} beslissen.",),
        )
    if isinstance(event, ev.ReconsiderationLapsed):
        return _Text(
            f"Heroverweging vervallen: het nieuwe toetsadvies {event.test_advice.label} is "
            "niet hoger"
        )
    if isinstance(event, ev.AutomaticFinalAdviceWithdrawn):
        return _Text(
            f"Automatisch definitief advies ({event.advice.label}) ingetrokken: het nieuwe "
            f"toetsadvies {event.test_advice.label} is hoger",
            event.withdrawn_on,
        )
    if isinstance(event, ev.ResultReviewRequired):
        return _Text(
            f"Toetsuitslag vraagt beoordeling: toetsadvies {event.test_advice.label} naast "
            f"{event.current_advice.label}"
        )
    if isinstance(event, ev.ConversationPlanned):
        pupil = " met de leerling" if event.with_pupil else ""
        when = event.planned_at.astimezone(_DUTCH).strftime("%d-%m-%Y %H:%M")
        return _Text(f"Heroverwegingsgesprek{pupil} gepland op {when}", timeliness=event.timeliness)
    if isinstance(event, ev.ConversationMoved):
        when = event.planned_at.astimezone(_DUTCH).strftime("%d-%m-%Y %H:%M")
        return _Text(
            f"Heroverwegingsgesprek verzet naar {when}",
            why=event.reason,
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.ConversationCancelled):
        return _Text("Heroverwegingsgesprek afgezegd", event.cancelled_on, why=event.reason)
    if isinstance(event, ev.ConversationHeld):
        present = ", ".join(p.label for p in event.attendees)
        return _Text(
            "Heroverwegingsgesprek gevoerd",
            event.held_on,
            (f"Aanwezig: {present}.",) if present else (),
            why=event.notes,
        )
    if isinstance(event, ev.ConversationDeclined):
        return _Text("Ouders zien af van een gesprek", event.declined_on, why=event.notes)
    if isinstance(event, ev.AdviceRaised):
        how = "volledig" if event.fully else "gedeeltelijk"
        reason = (f"Reden: {event.reason.label}.",) if event.reason else ()
        return _Text(
            f"Advies {how} bijgesteld naar {event.advice.label}",
            event.decided_on,
            reason,
            why=event.motivation,
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.AdviceKept):
        return _Text(
            "Advies gehandhaafd",
            event.decided_on,
            (f"Reden: {event.reason.label}.",),
            why=event.motivation,
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.FinalAdviceGiven):
        return _Text(
            f"Definitief schooladvies: {event.advice.label}",
            event.given_on,
            (f"Grond: {event.basis.label}.",),
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.ObjectionReceived):
        asked = (
            (f"Gevraagd advies: {event.requested_advice.label}.",) if event.requested_advice else ()
        )
        return _Text(
            "Verzoek van ouders ontvangen",
            event.received_on,
            asked,
            why=event.summary,
            timeliness=event.timeliness,
        )
    if isinstance(event, ev.ObjectionDecided):
        outcome = "toegekend" if event.granted else "afgewezen"
        new = (f"Nieuw advies: {event.new_advice.label}.",) if event.new_advice else ()
        return _Text(f"Verzoek van ouders {outcome}", event.decided_on, new, why=event.motivation)
    if isinstance(event, ev.PupilLeftSchool):
        return _Text("Van school vertrokken", event.left_on, why=event.destination)
    if isinstance(event, ev.NationalRegisterRegistrationSent):
        return _Text(
            f"Aangeleverd bij DUO: {event.kind.label} ({event.advice.label})",
            event.sent_on,
            timeliness=event.timeliness,
        )
    return _Text(event.event_type.replace("_", " "))


def actor_names(engine: Engine, actor_ids: Iterable[str]) -> dict[str, str]:
    """The names of the accounts among `actor_ids`, in one query."""
    wanted = sorted({a for a in actor_ids if a})
    if not wanted:
        return {}
    with single_statements(engine).connect() as conn:
        found = conn.execute(select(users.c.id, users.c.name).where(users.c.id.in_(wanted)))
        return {row.id: row.name for row in found}


def _who(actor: str, names: dict[str, str]) -> str:
    if actor in names:
        return names[actor]
    if actor in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[actor]
    if not actor or _UUID.match(actor):
        return "onbekend account"
    return actor


def _role(role: str) -> str:
    if role == _SYSTEM_ROLE:
        return "automatisch"
    try:
        return Role(role).label
    except ValueError:
        return role


def timeline(
    engine: Engine, trail: Sequence[tuple[StoredEvent, Event]], *, newest_first: bool = True
) -> list[Entry]:
    """The pupil's facts as entries, newest first unless asked otherwise."""
    names = actor_names(engine, (str(s.metadata.get("actor", "")) for s, _ in trail))
    entries = []
    for stored, event in trail:
        text = describe(event)
        flag = None
        if text.timeliness is not None and text.timeliness is not Timeliness.ON_TIME:
            flag = text.timeliness.label
        entries.append(
            Entry(
                recorded_at=stored.recorded_at,
                what=text.what,
                on=text.on,
                details=text.details,
                why=text.why,
                flag=flag,
                who=_who(str(stored.metadata.get("actor", "")), names),
                role=_role(str(stored.metadata.get("role", ""))),
            )
        )
    return entries[::-1] if newest_first else entries
