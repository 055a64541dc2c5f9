"""The parents' e-mails about a talk: the invitation, a moved talk, a cancellation, a reminder.

In two steps through the outbox, so that each parent gets one e-mail however often a step is
tried again (the pattern of `service.notices.reconsideration`):
1. `send_invitations` (topic `talk_invitation`, the talk's talk_planned / talk_moved /
   talk_cancelled; and `talk_reminder`) writes one `talk_mail` outbox message per invited parent
   with an e-mail address, in one transaction, once. Separated parents in one joint talk each
   get their own e-mail; two talks (the family's setting) are two streams, each its own e-mails.
2. `send_talk_mail` (each `talk_mail` message) sends that parent's e-mail: Dutch text with the
   date, time, place, who attends and the link to `/ouders/{token}` (a new single-purpose token,
   `service.scheduling.tokens`), and the iCalendar of the talk (`service.scheduling.ics`:
   REQUEST, or CANCEL) as iMIP. It records `InvitationSent` on the talk; a message whose e-mail
   the talk already records, or that a later move or cancellation overtook, sends nothing; nor
   does a cancellation to a parent who never got an e-mail about the talk.

The e-mail names the parent's own child only (first name), never another pupil, and no advice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from service.outbox.fanout import insert_once
from service.outbox.mail import Mailer, calendar_mail
from service.outbox.outbox import Handler, Message
from service.scheduling import sealing
from service.scheduling.ics import CalendarTalk, Person, summary_of, talk_calendar
from service.scheduling.talks import Talks
from service.scheduling.tokens import ParentTokens, deadline_day, expiry
from service.schools.register import Register
from service.shared.context import Actor
from service.store.engine import single_statements
from service.store.personal import ERASED
from service.store.port import EventStore
from service.store.schema import parents, users
from workflows.conversations import (
    InvitationKind,
    Talk,
    TalkCancelled,
    TalkKind,
    TalkMoved,
    fold_talk,
    talk_stream,
)
from workflows.dutch import long_date
from workflows.errors import DomainError

log = logging.getLogger("adviestraject.outbox")

INVITATION_TOPIC = "talk_invitation"
REMINDER_TOPIC = "talk_reminder"
MAIL_TOPIC = "talk_mail"
REMINDER = InvitationKind.REMINDER.value  # the reminder: the invitation again, same SEQUENCE
_RECORDED = frozenset(k.value for k in InvitationKind)
DUTCH = ZoneInfo("Europe/Amsterdam")
MAILER = Actor("talk-mail", "systeem")  # who records InvitationSent
_KIND_OF_EVENT = {
    "talk_planned": InvitationKind.INVITATION.value,
    "talk_moved": InvitationKind.UPDATE.value,
    "talk_cancelled": InvitationKind.CANCEL.value,
}
_ROLE_LABELS = {"leerkracht": "leerkracht", "ib": "intern begeleider", "directie": "directie"}


@dataclass(frozen=True)
class Invitee:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class TalkDetails:
    """What a parent may see of their child's talk (the e-mail and the parents' page)."""

    talk_id: str
    talk: Talk
    child_first_name: str
    school_name: str
    staff: tuple[tuple[str, str], ...]  # (name, role label) of who of the school attends
    parents: tuple[Invitee, ...]  # every invited parent (with or without an address)

    @property
    def kind(self) -> TalkKind:
        return self.talk.requested.kind

    @property
    def place(self) -> str:
        if self.talk.requested.online or not self.talk.room:
            return "online" if self.talk.requested.online else "op school"
        return self.talk.room

    @property
    def when(self) -> str:
        return when_text(self.talk.start, self.talk.end)

    def attending(self) -> list[str]:
        """Who attends, in Dutch, as the e-mail and the page list them."""
        who = [f"{name} ({role})" if role else name for name, role in self.staff]
        who += [p.name for p in self.parents]
        if self.talk.requested.with_pupil:
            who.append(self.child_first_name)
        return who


def dutch_date(moment: datetime | date) -> str:
    day = moment.astimezone(DUTCH).date() if isinstance(moment, datetime) else moment
    return long_date(day)


def when_text(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "nog niet gepland"
    return f"{dutch_date(start)}, {start.astimezone(DUTCH):%H:%M}–{end.astimezone(DUTCH):%H:%M}"


def load_talk(store: EventStore, talk_id: str) -> Talk | None:
    """The talk folded from its stream (free text left sealed: the e-mail never needs it)."""
    stored = store.read_stream(talk_stream(talk_id))
    if not stored:
        return None
    events = [sealing.decode(e.event_type, e.schema_version, e.data) for e in stored]
    return fold_talk(events)


def talk_details(
    engine: Engine, store: EventStore, register: Register, talk_id: str
) -> TalkDetails | None:
    talk = load_talk(store, talk_id)
    if talk is None:
        return None
    request = talk.requested
    pupil = register.pupil(request.pupil_id)
    school = register.school(request.school_id)
    with single_statements(engine).connect() as conn:
        staff_rows = {
            r.id: r
            for r in conn.execute(
                select(users.c.id, users.c.name, users.c.role).where(
                    users.c.id.in_(list(talk.staff))
                )
            )
        }
        parent_rows = {
            r.id: r
            for r in conn.execute(
                select(parents.c.id, parents.c.name, parents.c.email).where(
                    parents.c.id.in_(list(request.parents)),
                    parents.c.pupil_id == request.pupil_id,  # never another pupil's parent
                )
            )
        }
    staff = tuple(
        (staff_rows[s].name, _ROLE_LABELS.get(staff_rows[s].role, ""))
        for s in talk.staff
        if s in staff_rows
    )
    invited = tuple(
        Invitee(p, parent_rows[p].name, parent_rows[p].email or "")
        for p in request.parents
        if p in parent_rows
    )
    return TalkDetails(
        talk_id=talk_id,
        talk=talk,
        child_first_name=pupil.given_name if pupil else "uw kind",
        school_name=school.name if school else "de school",
        staff=staff,
        parents=invited,
    )


# -- step 1: one message per parent ----------------------------------------------------------


def send_invitations(engine: Engine, store: EventStore, clock: Callable[[], datetime]) -> Handler:
    """The handler of a talk event's message (`talk_invitation`, `talk_reminder`): one
    `talk_mail` message per invited parent with an e-mail address, written once."""

    def handle(message: Message) -> None:
        talk_id = message.stream_id.removeprefix("conversation-")
        event_type = message.payload.get("event_type", "")
        kind = _KIND_OF_EVENT.get(event_type, REMINDER)
        data = message.payload.get("data", {})
        talk = load_talk(store, talk_id)
        if talk is None or talk.start is None:
            return  # never planned (e.g. cancelled while requested): the parents know no time
        sequence = int(data.get("sequence", talk.sequence))
        with single_statements(engine).connect() as conn:
            reachable = {
                r.id
                for r in conn.execute(
                    select(parents.c.id).where(
                        parents.c.id.in_(list(talk.requested.parents)),
                        parents.c.pupil_id == talk.requested.pupil_id,
                        parents.c.email.is_not(None),
                        parents.c.email != "",
                    )
                )
            }
        payloads = [
            {
                "talk_id": talk_id,
                "parent_id": parent_id,
                "kind": kind,
                "sequence": sequence,
                "source": message.id,
            }
            for parent_id in talk.requested.parents
            if parent_id in reachable
        ]
        if payloads:
            insert_once(engine, message, MAIL_TOPIC, payloads, clock())

    return handle


# -- step 2: the e-mail to one parent --------------------------------------------------------


@dataclass(frozen=True)
class MailSetup:
    mailer: Mailer
    engine: Engine
    store: EventStore
    register: Register
    talks: Talks  # where the talk records that a parent's e-mail went
    clock: Callable[[], datetime]
    public_url: str
    sender: str  # the school's mail sender (ADVIESTRAJECT_MAIL_FROM), the ORGANIZER


def send_talk_mail(setup: MailSetup) -> Handler:
    """The handler of a `talk_mail` message: this parent's e-mail about the talk, once."""

    def handle(message: Message) -> None:
        payload = message.payload
        talk_id, parent_id, kind = payload["talk_id"], payload["parent_id"], payload["kind"]
        details = talk_details(setup.engine, setup.store, setup.register, talk_id)
        if details is None:
            return
        talk = details.talk
        if talk.sequence != payload["sequence"] or talk.closed or talk.start is None:
            return  # overtaken by a later move or cancellation (its own e-mail), held, declined
        if kind == REMINDER and talk.status.value not in ("proposed", "accepted"):
            return
        if kind == InvitationKind.UPDATE.value and not _told(talk, parent_id):
            kind = InvitationKind.INVITATION.value  # moved before the first e-mail: no "verzet"
        if kind in _RECORDED and (talk.sequence, parent_id, kind) in talk.invitations:
            return  # this e-mail went already (the message is tried again)
        if kind == InvitationKind.CANCEL.value and not _told(talk, parent_id):
            return  # cancelled before any e-mail about it reached this parent: nothing to undo
        parent = next((p for p in details.parents if p.id == parent_id), None)
        if parent is None or not parent.email:
            return  # no longer invited, or no address any more
        cancelled = kind == InvitationKind.CANCEL.value
        link = ""
        if not cancelled:
            tokens = ParentTokens(setup.engine, setup.clock)
            expires = expiry(talk.requested.deadline, talk.end)
            token = tokens.issue(talk_id, parent_id, expires)
            link = f"{setup.public_url.rstrip('/')}/ouders/{token}"
        reason = _reason(setup.talks, talk_id, talk.sequence, kind)
        mail = invitation_mail(
            details, parent, kind, link, setup.sender, setup.clock(), reason=reason
        )
        setup.mailer.send_message(f"outbox-{message.id}", mail)
        if kind in _RECORDED:
            try:
                setup.talks.invitation_sent(talk_id, parent_id, InvitationKind(kind), MAILER)
            except DomainError as error:  # e.g. declined in the meantime: the e-mail went
                log.warning("talk %s: e-mail to %s not recorded: %s", talk_id, parent_id, error)

    return handle


def _reason(talks: Talks, talk_id: str, sequence: int, kind: str) -> str:
    """Why the talk moved or was cancelled (the reason the school gave, as it gave it), for
    the e-mail that says so; "" for other e-mails or when the text was erased."""
    if kind not in (InvitationKind.UPDATE.value, InvitationKind.CANCEL.value):
        return ""
    for event in reversed(talks.history(talk_id)):
        if isinstance(event, TalkMoved | TalkCancelled) and event.sequence == sequence:
            text = str(event.reason).strip()
            return "" if text == ERASED else text
    return ""


def _told(talk: Talk, parent_id: str) -> bool:
    """Whether an invitation or update about the talk went to this parent."""
    cancel = InvitationKind.CANCEL.value
    return any(parent == parent_id and kind != cancel for _, parent, kind in talk.invitations)


_SUBJECTS = {
    InvitationKind.INVITATION.value: "Uitnodiging",
    InvitationKind.UPDATE.value: "Nieuwe tijd",
    InvitationKind.CANCEL.value: "Gaat niet door",
    REMINDER: "Herinnering",
}
_OPENINGS = {
    InvitationKind.INVITATION.value: "De school nodigt u uit voor een gesprek over het "
    "schooladvies van {child}.",
    InvitationKind.UPDATE.value: "Het gesprek over het schooladvies van {child} is verzet. "
    "Dit is de nieuwe tijd; de vorige afspraak vervalt.",
    InvitationKind.CANCEL.value: "Het gesprek over het schooladvies van {child} op {when} "
    "gaat niet door. De school neemt contact met u op over een nieuwe afspraak als dat nodig "
    "is.",
    REMINDER: "Een herinnering aan het gesprek over het schooladvies van {child}.",
}


def invitation_mail(
    details: TalkDetails,
    parent: Invitee,
    kind: str,
    link: str,
    sender: str,
    now: datetime,
    *,
    reason: str = "",
) -> EmailMessage:
    """The whole e-mail to one parent: the Dutch text and the talk's calendar (iMIP), with the
    school's reason when the talk moved or was cancelled."""
    talk = details.talk
    if talk.start is None or talk.end is None:
        raise ValueError(f"talk {details.talk_id} was never planned: nothing to send")
    child = details.child_first_name
    subject = f"{_SUBJECTS[kind]}: {summary_of(child)}"
    opening = _OPENINGS[kind].format(child=child, when=details.when)
    lines = [f"Beste {parent.name or 'ouder'},", "", opening, ""]
    if reason:
        lines += [f"Reden: {reason}", ""]
    if kind != InvitationKind.CANCEL.value:
        lines += [
            f"Wanneer: {details.when}",
            f"Waar: {details.place}",
            f"Aanwezig: {', '.join(details.attending())}",
            "",
            "Laat de school weten of u komt, vraag een ander moment aan als het niet past, of "
            "schrijf vooraf uw zienswijze op:",
            link,
            "",
            "Deze link is alleen voor u en alleen voor dit gesprek; stuur hem niet door. Hij "
            f"werkt tot en met {dutch_date(deadline_day(talk.requested.deadline))}. Een "
            "nieuwere e-mail over dit gesprek heeft een nieuwe link.",
            "De afspraak zit ook als agenda-uitnodiging bij deze e-mail.",
            "",
        ]
    lines += ["Met vriendelijke groet,", details.school_name, ""]
    address = parseaddr(sender)[1] or sender
    calendar = CalendarTalk(
        talk_id=details.talk_id,
        sequence=talk.sequence,
        start=talk.start,
        end=talk.end,
        location=details.place,
        child_first_name=child,
        organizer=Person(address, details.school_name),
        attendees=tuple(Person(p.email, p.name) for p in details.parents if p.email),
        cancelled=kind == InvitationKind.CANCEL.value,
        # no link in the agenda item: it is this parent's secret, and agendas get shared
        description=f"Een {details.kind.label} van {details.school_name}.",
    )
    method = "CANCEL" if calendar.cancelled else "REQUEST"
    return calendar_mail(
        parent.email, subject, "\n".join(lines), talk_calendar(calendar, now), method
    )
