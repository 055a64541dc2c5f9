"""The pupil dossier: everything the school recorded about one pupil's advice, for directie, the
Inspectie, the klachtencommissie and the parents — as one plain `Dossier` that the page
(`/leerlingen/{id}/dossier`) and the PDF both render.

It holds every fact of the pupil's trajectory and talks in the order of the log (who with name
and role, when in Europe/Amsterdam, why), the voorlopig and definitief advies side by side, the
talks with the parents' answers, who was informed when (notices to staff, invitations to
parents), the toets results with their delivery, and two integrity lines: the last full check of
the whole hash chain (`service.audit.integrity.status`) and this pupil's own events checked now
(each stored hash recomputed from the event and the hash before it, each stream's versions
without a hole). Describing a trajectory fact and naming an account is the timeline's job; the
web edge passes both in (`lines`, and `person`: the timeline's naming plus the system's own
actors), so this capability does not import an edge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from service.accounts.roles import Role
from service.audit.dossier_talks import Informed, describe_talk_event, informed_by_talk
from service.audit.integrity import IntegrityStatus
from service.scheduling import sealing, views
from service.store.engine import single_statements
from service.store.events import StoredEvent
from service.store.hashing import GENESIS_HASH, rehash
from service.store.port import EventStore
from service.store.schema import events, outbox, parents, result_deliveries
from service.store.streams import trajectory_stream
from workflows import events as ev
from workflows.codec import Event
from workflows.conversations import talk_stream
from workflows.enums import Timeliness
from workflows.trajectory import fold

_AMS = ZoneInfo("Europe/Amsterdam")
Person = Callable[[str, str], tuple[str, str]]
"""(actor id, role as recorded) -> (name, role as a reader reads it)."""


class Line(Protocol):
    """A trajectory fact as the timeline describes it (`service.web.timeline.Entry`)."""

    @property
    def what(self) -> str: ...
    @property
    def on(self) -> date | None: ...
    @property
    def details(self) -> tuple[str, ...]: ...
    @property
    def why(self) -> str | None: ...
    @property
    def flag(self) -> str | None: ...


@dataclass(frozen=True)
class Fact:
    position: int
    recorded_at: datetime
    what: str
    on: date | None
    details: tuple[str, ...]
    why: str | None
    flag: str | None
    who: str
    role: str
    talk: str | None
    """The talk's kind ("heroverwegingsgesprek") for a talk's event; None for the trajectory."""
    intact: bool
    why_label: str = "Waarom"


@dataclass(frozen=True)
class AdviceSide:
    advice: str
    given_on: date
    timeliness: str
    late: bool
    basis: str | None
    who: str
    role: str
    motivation: str | None = None
    """What the voorlopig advies rests on, as written with it (None: not written down)."""


@dataclass(frozen=True)
class TalkSummary:
    kind: str
    status: str
    start: datetime | None
    end: datetime | None
    room: str | None
    online: bool
    staff: tuple[str, ...]
    parents: tuple[str, ...]
    steps: tuple[Fact, ...]


@dataclass(frozen=True)
class Delivery:
    provider: str
    test_advice: str
    received_on: date
    delivery_id: str
    levels: str
    recorded_at: datetime
    delivered_at: datetime | None
    receipt: int | None
    """Our number of the delivery (`result_deliveries.id`), None for a result typed in."""
    who: str
    role: str


@dataclass(frozen=True)
class PupilChain:
    """This pupil's events checked now: each stored hash against its recomputation."""

    checked_at: datetime
    events: int
    broken: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def message(self) -> str:
        when = self.checked_at.astimezone(_AMS).strftime("%d-%m-%Y om %H:%M")
        if not self.events:
            return "Van deze leerling is nog niets vastgelegd: er is niets na te rekenen."
        if self.ok:
            return (
                f"De {self.events} vastgelegde feiten van deze leerling zijn op {when} "
                "opnieuw gecontroleerd: ongewijzigd."
            )
        where = ", ".join(str(p) for p in self.broken)
        return (
            f"Bij het narekenen op {when} klopt de hash niet van het feit op positie {where}: "
            "dit feit is achteraf gewijzigd en kan niet als bewijs gelden."
        )


@dataclass(frozen=True)
class Dossier:
    pupil_id: str
    name: str
    class_name: str
    school_name: str
    school_year: str
    status: str
    conversation: str
    provisional: AdviceSide | None
    final: AdviceSide | None
    test_advice: str | None
    facts: tuple[Fact, ...]
    talks: tuple[TalkSummary, ...]
    informed: tuple[Informed, ...]
    deliveries: tuple[Delivery, ...]
    chain: IntegrityStatus
    pupil_chain: PupilChain
    made_at: datetime

    @property
    def intact(self) -> bool:
        return self.chain.ok and self.pupil_chain.ok

    @property
    def chain_line(self) -> str:
        """One line for every page of the PDF."""
        checked_at = self.chain.checked_at
        if self.chain.ok and checked_at is not None:
            whole = (
                f"Hash-keten geverifieerd tot en met positie {self.chain.verified_to} "
                f"op {checked_at.astimezone(_AMS):%d-%m-%Y %H:%M}"
            )
        elif self.chain.ok:
            whole = "Hash-keten nog niet gecontroleerd"
        else:
            whole = f"HASH-KETEN VERBROKEN bij positie {self.chain.first_bad_position}"
        own = "in orde" if self.pupil_chain.ok else "VERBROKEN"
        return f"{whole} · feiten van deze leerling nagerekend: {own}"


_MAIL_WHAT = {
    "mail_notice": "heroverweging nodig (e-mail met link)",
    "talk_escalation_mail": "gesprek in gevaar (waarschuwing)",
}


def check_pupil_chain(engine: Engine, stored: Sequence[StoredEvent], now: datetime) -> PupilChain:
    """Recompute each of these events' hash from its content and the hash stored one position
    before it (one query for those), and check each stream's versions run 1, 2, 3, …"""
    wanted = sorted({e.position - 1 for e in stored if e.position > 1})
    before: dict[int, str] = {}
    with single_statements(engine).connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = conn.execute(
                select(events.c.position, events.c.hash).where(events.c.position.in_(chunk))
            )
            before.update({int(r.position): r.hash for r in rows})
    broken: list[int] = []
    versions: dict[str, int] = {}
    for event in sorted(stored, key=lambda e: e.position):
        previous = GENESIS_HASH if event.position == 1 else before.get(event.position - 1)
        expected = versions.get(event.stream_id, 0) + 1
        versions[event.stream_id] = event.stream_version
        if (
            previous is None
            or event.stream_version != expected
            or rehash(event, previous) != event.hash
        ):
            broken.append(event.position)
    return PupilChain(now, len(stored), tuple(broken))


def _parents_of(engine: Engine, pupil_id: str) -> dict[str, str]:
    with single_statements(engine).connect() as conn:
        rows = conn.execute(
            select(parents.c.id, parents.c.name).where(parents.c.pupil_id == pupil_id)
        )
        return {r.id: r.name for r in rows}


def _mails(engine: Engine, pupil_id: str, talk_ids: Sequence[str]) -> list[Informed]:
    """The e-mails to staff about this pupil, sent or waiting: the notices (topic
    `mail_notice` on the trajectory) and directie warned about a talk (`talk_escalation_mail`)."""
    streams = [trajectory_stream(pupil_id), *(talk_stream(t) for t in talk_ids)]
    query = (
        select(
            outbox.c.topic,
            outbox.c.payload,
            outbox.c.created_at,
            outbox.c.done_at,
            outbox.c.failed_at,
        )
        .where(outbox.c.stream_id.in_(streams))
        .where(outbox.c.topic.in_(list(_MAIL_WHAT)))
        .order_by(outbox.c.id)
    )
    found = []
    with single_statements(engine).connect() as conn:
        for r in conn.execute(query):
            payload = r.payload or {}
            default = "directie" if r.topic == "talk_escalation_mail" else ""
            try:
                role = Role(payload.get("role") or default).label
            except ValueError:
                role = "vast adres van de school"
            state = "verzonden" if r.done_at else "mislukt" if r.failed_at else "wacht"
            found.append(
                Informed(
                    r.done_at or r.failed_at or r.created_at,
                    payload.get("name") or payload.get("to") or "",
                    role,
                    "e-mail",
                    _MAIL_WHAT[r.topic],
                    state,
                )
            )
    return found


def _deliveries_by_id(engine: Engine, pupil_id: str) -> dict[int, datetime]:
    query = select(result_deliveries.c.id, result_deliveries.c.received_at).where(
        result_deliveries.c.pupil_id == pupil_id
    )
    with single_statements(engine).connect() as conn:
        return {int(r.id): r.received_at for r in conn.execute(query)}


def _side(recorded: object | None, stored: StoredEvent | None, person: Person) -> AdviceSide | None:
    if recorded is None or stored is None:
        return None
    who, role = person(str(stored.metadata.get("actor", "")), str(stored.metadata.get("role", "")))
    timeliness: Timeliness = recorded.timeliness  # type: ignore[attr-defined]
    basis = getattr(recorded, "basis", None)
    return AdviceSide(
        advice=recorded.advice.label,  # type: ignore[attr-defined]
        given_on=recorded.given_on,  # type: ignore[attr-defined]
        timeliness=timeliness.label,
        late=timeliness is not Timeliness.ON_TIME,
        basis=basis.label if basis is not None else None,
        who=who,
        role=role,
    )


def assemble(
    *,
    engine: Engine,
    store: EventStore,
    pupil_id: str,
    name: str,
    class_name: str,
    school_name: str,
    trail: Sequence[tuple[StoredEvent, Event]],
    lines: Sequence[Line],
    person: Person,
    chain: IntegrityStatus,
    now: datetime,
) -> Dossier:
    """The dossier of one pupil from its trajectory (`trail`, described as `lines`), its talk
    streams, the outbox and the deliveries; `chain` is the last full check of the log."""
    state = fold(event for _, event in trail)
    facts: list[Fact] = []
    all_stored = [s for s, _ in trail]
    last: dict[type[Event], StoredEvent] = {}
    deliveries_at = _deliveries_by_id(engine, pupil_id)
    deliveries: list[Delivery] = []
    for (stored, event), line in zip(trail, lines, strict=True):
        last[type(event)] = stored
        who, role = person(
            str(stored.metadata.get("actor", "")), str(stored.metadata.get("role", ""))
        )
        facts.append(_fact(stored, line, who, role))
        if isinstance(event, ev.TestResultReceived):
            receipt = stored.metadata.get("delivery")
            number = (
                int(receipt) if isinstance(receipt, int | str) and str(receipt).isdigit() else None
            )
            deliveries.append(
                Delivery(
                    provider=event.provider,
                    test_advice=event.test_advice.label,
                    received_on=event.received_on,
                    delivery_id=event.delivery_id,
                    levels=", ".join(f"{r.domain} {r.level}" for r in event.reference_levels),
                    recorded_at=stored.recorded_at,
                    delivered_at=deliveries_at.get(number) if number is not None else None,
                    receipt=number,
                    who=who,
                    role=role,
                )
            )
    family = _parents_of(engine, pupil_id)

    def parent(parent_id: str | None) -> str:
        if parent_id is None:
            return "De school namens de ouders"
        return family.get(parent_id, "een ouder/verzorger")

    def who_of(stored: StoredEvent) -> tuple[str, str]:
        actor, role = str(stored.metadata.get("actor", "")), str(stored.metadata.get("role", ""))
        if role == "ouder":
            return parent(actor), "ouder/verzorger"
        return person(actor, role)

    talks: list[TalkSummary] = []
    rows = list(reversed(views.for_pupil(engine, pupil_id)))
    informed = _mails(engine, pupil_id, [r.talk_id for r in rows])
    for row in rows:
        stored_talk = store.read_stream(talk_stream(row.talk_id))
        key = None
        if sealing.needs_key(stored_talk):
            key = store.pupil_keys([pupil_id]).get(pupil_id)
        opened = sealing.open_events(stored_talk, key)
        all_stored.extend(stored_talk)
        steps = []
        for stored, event in zip(stored_talk, opened, strict=True):
            text = describe_talk_event(event, parent)
            who, role = who_of(stored)
            step = Fact(
                stored.position,
                stored.recorded_at,
                text.what,
                text.on,
                text.details,
                text.why,
                None,
                who,
                role,
                row.kind.label,
                True,
                text.why_label,
            )
            steps.append(step)
            told = informed_by_talk(event, parent)
            if told is not None:
                informed.append(told)
        facts.extend(steps)
        talks.append(
            TalkSummary(
                kind=row.kind.label,
                status=row.status.label,
                start=row.start,
                end=row.end,
                room=row.room,
                online=row.online,
                staff=tuple(person(s, "")[0] for s in row.staff),
                parents=tuple(parent(p) for p in row.parents),
                steps=tuple(steps),
            )
        )
    own = check_pupil_chain(engine, all_stored, now)
    bad = set(own.broken)
    ordered = sorted((_intact(f, f.position not in bad) for f in facts), key=lambda f: f.position)
    talks = [
        replace(t, steps=tuple(_intact(s, s.position not in bad) for s in t.steps)) for t in talks
    ]
    provisional_event = last.get(ev.ProvisionalAdviceCorrected) or last.get(
        ev.ProvisionalAdviceGiven
    )
    provisional = _side(state.provisional_advice, provisional_event, person)
    given = [e for _, e in trail if isinstance(e, ev.ProvisionalAdviceGiven)]
    if provisional is not None and given:
        provisional = replace(provisional, motivation=given[-1].motivation)
    return Dossier(
        pupil_id=pupil_id,
        name=name,
        class_name=class_name,
        school_name=school_name,
        school_year=str(state.school_year or ""),
        status=state.status.label,
        conversation=state.conversation.label,
        provisional=provisional,
        final=_side(state.final_advice, last.get(ev.FinalAdviceGiven), person),
        test_advice=state.test_advice.label if state.test_advice else None,
        facts=tuple(ordered),
        talks=tuple(talks),
        informed=tuple(sorted(informed, key=lambda i: (i.at is None, i.at or now))),
        deliveries=tuple(deliveries),
        chain=chain,
        pupil_chain=own,
        made_at=now,
    )


def _fact(stored: StoredEvent, line: Line, who: str, role: str) -> Fact:
    return Fact(
        stored.position,
        stored.recorded_at,
        line.what,
        line.on,
        line.details,
        line.why,
        line.flag,
        who,
        role,
        None,
        True,
    )


def _intact(fact: Fact, intact: bool) -> Fact:
    if fact.intact == intact:
        return fact
    return replace(fact, intact=intact)
