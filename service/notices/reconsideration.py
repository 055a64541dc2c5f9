"""Notices: who at the school is told that a pupil needs their action, by e-mail and on the
start page.

Who gets which notice is the school's setting for the pupil's school year
(`workflows.policy.Recipients`, changed by directie on /instellingen): by default a toetsadvies
above the voorlopig advies (event `reconsideration_required`) goes to the pupil's class
teacher(s) — the active `leerkracht` accounts with the pupil's class — and the school's intern
begeleiders (active `ib` accounts of the school); the school may add its directie and fixed
addresses. When none of the chosen people has an account, the directie is told instead, so that
a week before the deadline someone knows; a school with nobody at all makes the notice fail
with that reason (`adviestraject outbox`), to be retried once the accounts exist.

By e-mail, in two steps through the outbox, so that every person gets one e-mail however often
a step is tried again:
1. `fan_out_reconsideration` (the event's outbox message) finds the recipients and writes one
   `mail_notice` outbox message per recipient, in one transaction, once: a second run finds
   them already there.
2. `send_notice` (each `mail_notice` message) sends that person's e-mail; a mail server that
   fails makes only that e-mail wait and try again.

The e-mail carries no more of the pupil than needed: no name, no advice, only the class, the
deadline and a link to the pupil page, where the reader logs in (and the read is logged).

On the start page, `open_notices` lists what is still open for the person logged in: each pupil
of their classes (leerkracht) or school (ib) whose heroverweging has not yet led to the
definitief advies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, and_, or_, select

from service.accounts.roles import Principal, Role
from service.outbox.fanout import insert_once
from service.outbox.mail import Mailer
from service.outbox.outbox import GiveUpError, Handler, Message
from service.schools.policies import PolicyLookup
from service.schools.register import Register, surname_sort_key
from service.store.engine import single_statements
from service.store.schema import pupils, schools, trajectories, user_schools, users
from workflows.calendar import SchoolYear
from workflows.lifecycle import Status
from workflows.policy import Notice, Recipients

MAIL_TOPIC = "mail_notice"
RECONSIDERATION = Notice.RECONSIDERATION_REQUIRED.value
FALLBACK_ROLE = Role.DIRECTIE


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    role: Role | None  # None: an address the school added (`Recipients.extra`)


def recipients(
    engine: Engine, school_id: str, class_name: str, chosen: Recipients
) -> list[Recipient]:
    """The people a notice about a pupil of `class_name` at the school goes to, each address
    once: the active accounts of the roles the school chose (class teachers only with a known
    class), then its extra addresses; the directie when none of the chosen has an account."""
    wanted = []
    if chosen.class_teachers and class_name:
        wanted.append(
            and_(users.c.role == Role.LEERKRACHT.value, user_schools.c.class_name == class_name)
        )
    wanted += [
        users.c.role == role.value
        for role, on in ((Role.IB, chosen.ib), (Role.DIRECTIE, chosen.directie))
        if on
    ]
    found = _accounts(engine, school_id, or_(*wanted)) if wanted else []
    if not found:
        found = _accounts(engine, school_id, users.c.role == FALLBACK_ROLE.value)
    taken = {r.email.casefold() for r in found}
    for address in chosen.extra:
        if address.casefold() not in taken:
            taken.add(address.casefold())
            found.append(Recipient(address, "", None))
    return found


def _accounts(engine: Engine, school_id: str, which: Any) -> list[Recipient]:
    with single_statements(engine).connect() as conn:
        rows = conn.execute(
            select(users.c.email, users.c.name, users.c.role)
            .join(user_schools, user_schools.c.user_id == users.c.id)
            .where(user_schools.c.school_id == school_id, users.c.active.is_(True), which)
            .distinct()
            .order_by(users.c.email)
        ).all()
    return [Recipient(r.email, r.name, Role(r.role)) for r in rows]


def fan_out_reconsideration(
    engine: Engine, register: Register, policies: PolicyLookup, clock: Callable[[], datetime]
) -> Handler:
    """The handler of the event's outbox message: one `mail_notice` message per recipient."""

    def handle(message: Message) -> None:
        pupil_id = message.stream_id.removeprefix("trajectory-")
        school_id, year = _school_and_year(engine, message.stream_id)
        pupil = register.pupil(pupil_id)
        if pupil is not None:
            school_id = pupil.school_id
        if school_id is None:
            raise GiveUpError(f"pupil {pupil_id}: no school known, nobody to tell")
        # not (or no longer) in the register: the class is unknown, so the school's IB or
        # directie is told
        class_name = pupil.class_name if pupil is not None else ""
        year = year or SchoolYear.containing(clock().date())
        policy = policies(school_id, year)
        chosen = policy.recipients(Notice.RECONSIDERATION_REQUIRED)
        found = recipients(engine, school_id, class_name, chosen)
        if not found:
            raise GiveUpError(
                f"school {school_id} has no active leerkracht of class {class_name or '?'}, "
                "no ib and no directie account: nobody to tell (add them, then "
                "'adviestraject outbox --retry-failed')"
            )
        school = register.school(school_id)
        data = message.payload["data"]
        payloads = [
            {
                "notice": RECONSIDERATION,
                "to": who.email,
                "name": who.name,
                "role": who.role.value if who.role else "",
                "pupil_id": pupil_id,
                "class_name": class_name,
                "school_name": school.name if school else "",
                "deadline": data["deadline"],
                "conversation_required": policy.conversation_required,
                "source": message.id,
            }
            for who in found
        ]
        insert_once(engine, message, MAIL_TOPIC, payloads, clock())

    return handle


def _school_and_year(engine: Engine, stream_id: str) -> tuple[str | None, SchoolYear | None]:
    with single_statements(engine).connect() as conn:
        row = conn.execute(
            select(trajectories.c.school_id, trajectories.c.school_year).where(
                trajectories.c.stream_id == stream_id
            )
        ).first()
    if row is None:
        return None, None
    return row.school_id, SchoolYear.parse(row.school_year) if row.school_year else None


def send_notice(mailer: Mailer, public_url: str) -> Handler:
    """The handler of a `mail_notice` message: that one person's e-mail, keyed on the message
    id (the file mailer writes it once; SMTP gets the same Message-ID every time)."""

    def handle(message: Message) -> None:
        payload = message.payload
        if payload.get("notice") != RECONSIDERATION:
            raise GiveUpError(f"unknown notice {payload.get('notice')!r}")
        subject, body = reconsideration_mail(payload, public_url)
        mailer.send(f"outbox-{message.id}", payload["to"], subject, body)

    return handle


def reconsideration_mail(payload: dict[str, Any], public_url: str) -> tuple[str, str]:
    """Subject and body (Dutch) of the heroverweging notice to one person."""
    class_name = payload.get("class_name") or ""
    school = payload.get("school_name") or ""
    who = f"een leerling van groep {class_name}" if class_name else "een leerling"
    where = f" ({school})" if school else ""
    deadline = date.fromisoformat(payload["deadline"])
    link = f"{public_url.rstrip('/')}/leerlingen/{payload['pupil_id']}"
    role = payload.get("role") or ""
    if role == Role.LEERKRACHT.value:
        because = "als leerkracht van deze groep"
    elif role:
        because = f"als {Role(role).label} van de school"
    else:
        because = "omdat de school dit adres voor deze meldingen heeft opgegeven"
    if payload.get("conversation_required", True):
        talk = (
            "Voer vóór het besluit het gesprek met de ouders en de leerling (zo wil de school het)."
        )
    else:
        talk = "Een gesprek met de ouders en de leerling vóór het besluit wordt aangeraden."
    subject = f"Heroverweging nodig: {who}"  # short: a folded Subject shows a leading space
    body = (
        f"Beste {payload.get('name') or 'collega'},\n\n"
        f"Voor {who}{where} is een heroverweging van het schooladvies nodig: het toetsadvies "
        "van de doorstroomtoets is hoger dan het voorlopig schooladvies.\n\n"
        "De school stelt het advies bij naar het toetsadvies, tenzij dat niet in het belang van "
        f"de leerling is; leg dan de moverende redenen vast. {talk}\n"
        f"Het definitief advies is uiterlijk {deadline:%d-%m-%Y} nodig.\n\n"
        f"Bekijk de leerling (na inloggen):\n{link}\n\n"
        f"U krijgt dit bericht {because}. Naam en adviezen van de leerling staan bewust niet "
        "in deze e-mail.\n\n"
        "Met vriendelijke groet,\nadviestraject\n"
    )
    return subject, body


class NoticeContainer(Protocol):
    """What of the composition root's container `open_notices` reads."""

    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    @property
    def policies(self) -> PolicyLookup: ...


@dataclass(frozen=True)
class OpenNotice:
    """Something that waits for the person on the start page."""

    kind: str  # "reconsideration_required"
    title: str  # Dutch, e.g. "Heroverweging nodig"
    pupil_id: str
    pupil_name: str
    class_name: str
    school_id: str
    school_name: str
    deadline: date | None
    overdue: bool
    url: str  # the pupil page, /leerlingen/{id}


def open_notices(container: NoticeContainer, principal: Principal) -> list[OpenNotice]:
    """What is still open for `principal`: every pupil in `reconsideration_required` — the
    heroverweging and then the definitief advies that follows it (as on the worklist) — whose
    notice the school sends to them (its setting for that school year: a leerkracht for the
    pupils of their own classes, ib and directie for the whole school), soonest deadline first.
    The caller shows pupil names: it logs the reads (`log_reads`) of the returned pupil ids."""
    if principal.role not in _NOTICE_ROLES or not principal.school_ids:
        return []
    with single_statements(container.engine).connect() as conn:
        waiting = conn.execute(
            select(
                trajectories.c.stream_id,
                trajectories.c.school_year,
                trajectories.c.reconsideration_deadline,
            ).where(
                trajectories.c.status == Status.RECONSIDERATION_REQUIRED.value,
                trajectories.c.school_id.in_(sorted(principal.school_ids)),
            )
        ).all()
        if not waiting:
            return []
        by_pupil = {r.stream_id.removeprefix("trajectory-"): r for r in waiting}
        found = conn.execute(
            select(pupils, schools.c.name.label("school_name"))
            .join(schools, schools.c.id == pupils.c.school_id)
            .where(pupils.c.id.in_(list(by_pupil)))
        ).all()
    today = container.clock().date()
    chosen: dict[tuple[str, SchoolYear], Recipients] = {}
    notices = []
    for r in found:
        stored = by_pupil[r.id].school_year
        year = SchoolYear.parse(stored) if stored else SchoolYear.containing(today)
        key = (r.school_id, year)
        if key not in chosen:
            policy = container.policies(r.school_id, year)
            chosen[key] = policy.recipients(Notice.RECONSIDERATION_REQUIRED)
        if not _told(principal, chosen[key], r.school_id, r.class_name):
            continue
        deadline = by_pupil[r.id].reconsideration_deadline
        notices.append(
            OpenNotice(
                kind=RECONSIDERATION,
                title="Heroverweging nodig",
                pupil_id=r.id,
                pupil_name=f"{r.given_name} {r.family_name}",
                class_name=r.class_name,
                school_id=r.school_id,
                school_name=r.school_name,
                deadline=deadline,
                overdue=deadline is not None and deadline < today,
                url=f"/leerlingen/{r.id}",
            )
        )
    by_name = {
        r.id: (surname_sort_key(r.family_name, r.surname_prefix), r.given_name.casefold())
        for r in found
    }
    notices.sort(key=lambda n: (n.deadline or date.max, by_name[n.pupil_id]))
    return notices


_NOTICE_ROLES = frozenset({Role.LEERKRACHT, Role.IB, Role.DIRECTIE})


def _told(principal: Principal, chosen: Recipients, school_id: str, class_name: str) -> bool:
    """Whether the school's setting sends this notice about a pupil of `class_name` to them."""
    if school_id not in principal.school_ids:
        return False
    if principal.role is Role.LEERKRACHT:
        return chosen.class_teachers and any(
            s.school_id == school_id and s.class_name == class_name for s in principal.scopes
        )
    if principal.role is Role.IB:
        return chosen.ib
    return principal.role is Role.DIRECTIE and chosen.directie
