"""Parents receive the talk's invitation by e-mail through a real SMTP server (aiosmtpd on a free
port): one e-mail per parent, with the iCalendar parsed back — REQUEST with the talk's UID and
SEQUENCE 0 at the Dutch wall-clock time, both parents as attendees; a move is the same UID with
SEQUENCE 1, a cancellation METHOD:CANCEL with SEQUENCE 2; a message tried again sends nothing
twice. On SQLite and on PostgreSQL (the `container` fixture runs both)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import insert, select, update

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.outbox.outbox import OutboxWorker
from service.scheduling.invitations import INVITATION_TOPIC, MAIL_TOPIC, REMINDER_TOPIC
from service.schools.register import Pupil, School
from service.shared.context import Actor
from service.store.schema import outbox, parents
from tests.conftest import Clock
from tests.e2e.test_notices import CTX, Catcher, drain, free_port, heroverweging, smtp_worker
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil
from workflows.conversations import SendReminder, TalkKind
from workflows.policy import SchoolPolicy, TalkSettings

DUTCH = ZoneInfo("Europe/Amsterdam")
SCHOOL = School("school-1", "99ZZ", "De Vuurtoren")
TEACHER = Actor("teacher", "leerkracht")
MOTHER = ("moeder@example.nl", "Fatima el Amrani")
FATHER = ("vader@example.nl", "Jeroen Bakker")
FIRST = datetime(2026, 3, 17, 14, 30, tzinfo=DUTCH)  # a Tuesday, before the 24 March deadline
LATER = datetime(2026, 3, 18, 9, 0, tzinfo=DUTCH)


@pytest.fixture
def smtp() -> Iterator[tuple[Catcher, int]]:
    catcher = Catcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield catcher, port
    finally:
        controller.stop()


def pupil_with_parents(
    container: Container, given_name: str, family: list[tuple[str | None, str]]
) -> str:
    pupil = uuid.uuid4()
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, given_name, "Jansen", "8A"))
    enrol = EnrolPupil(
        school_id=SCHOOL.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    container.trajectories.execute(pupil, enrol, CTX)
    with container.engine.begin() as conn:
        for address, name in family:
            conn.execute(
                insert(parents).values(
                    id=str(uuid.uuid4()), pupil_id=str(pupil), name=name, email=address
                )
            )
    return str(pupil)


def with_teacher(container: Container) -> Container:
    """The school, with Anna de Wit as the teacher of 8A."""
    container.register.add_school(SCHOOL)
    container.accounts.add_user(
        "anna@school.nl", "Anna de Wit", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]
    )
    return container


@pytest.fixture
def school(container: Container) -> Container:
    return with_teacher(container)


def planned_talk(container: Container, clock: Clock, pupil: str) -> str:
    heroverweging(container, clock, uuid.UUID(pupil))
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, TEACHER)
    container.talks.plan(talk_id, FIRST, "Lokaal 8A", TEACHER)
    return talk_id


def to_parents(catcher: Catcher) -> dict[str, list[EmailMessage]]:
    """The e-mails each parent received, in order (the school's notices left out)."""
    found: dict[str, list[EmailMessage]] = {}
    for rcpt_tos, message in catcher.received:
        for to in rcpt_tos:
            if to.endswith("@example.nl"):
                found.setdefault(to, []).append(message)
    return found


def calendar_of(message: EmailMessage) -> Any:
    """The text/calendar alternative, parsed; checks the .ics attachment says the same."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    calendar = Calendar.from_ical(part.get_content())
    assert part.get_param("method") == calendar["METHOD"]
    assert Calendar.from_ical(attachment.get_content()).to_ical() == calendar.to_ical()
    return calendar


def event_of(calendar: Any) -> Any:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def test_each_parent_gets_one_invitation_with_the_talk_in_their_agenda(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    other = pupil_with_parents(school, "Daan", [("ander@example.nl", "Ria Ander")])
    heroverweging(school, clock, uuid.UUID(other))
    talk_id = planned_talk(school, clock, pupil)
    drain(smtp_worker(school, port))

    mails = to_parents(catcher)
    assert sorted(mails) == ["moeder@example.nl", "vader@example.nl"]
    assert all(len(m) == 1 for m in mails.values())
    mother = mails["moeder@example.nl"][0]
    assert mother["Subject"] == "Uitnodiging: Gesprek over het schooladvies van Noor"
    assert mother["From"] == "adviestraject@bestuur.nl"
    calendar = calendar_of(mother)
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == f"talk-{talk_id}@adviestraject"
    assert event["SEQUENCE"] == 0
    start = event["DTSTART"].dt
    assert str(start.tzinfo) == "Europe/Amsterdam"
    assert (start.hour, start.minute) == (14, 30)
    assert start == FIRST
    assert event["DTEND"].dt == datetime(2026, 3, 17, 15, 0, tzinfo=DUTCH)  # 30 minutes
    attendees = sorted(str(a) for a in event["ATTENDEE"])
    assert attendees == ["mailto:moeder@example.nl", "mailto:vader@example.nl"]
    assert event["LOCATION"] == "Lokaal 8A"
    assert event["SUMMARY"] == "Gesprek over het schooladvies van Noor"
    assert str(event["ORGANIZER"]) == "mailto:adviestraject@bestuur.nl"

    body = text_of(mother)
    assert body.startswith("Beste Fatima el Amrani,\n")
    assert "Wanneer: dinsdag 17 maart 2026, 14:30–" in body
    assert "Waar: Lokaal 8A" in body
    assert "Anna de Wit (leerkracht)" in body
    assert "https://adviestraject.bestuur.nl/ouders/" in body
    father_body = text_of(mails["vader@example.nl"][0])
    mother_link = [w for w in body.split() if "/ouders/" in w]
    father_link = [w for w in father_body.split() if "/ouders/" in w]
    assert mother_link != father_link  # each parent's own link
    for message in (mother, mails["vader@example.nl"][0]):
        text = f"{message['Subject']}\n{text_of(message)}".casefold()
        for secret in ("daan", "havo", "vwo"):
            assert secret not in text

    talk = school.talks.load(talk_id)
    assert {(s, kind) for s, _, kind in talk.invitations} == {(0, "invitation")}
    assert len(talk.invitations) == 2


def test_a_move_keeps_the_uid_with_sequence_1_and_a_cancel_is_a_cancel_with_sequence_2(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    talk_id = planned_talk(school, clock, pupil)
    worker = smtp_worker(school, port)
    drain(worker)

    school.talks.move(talk_id, LATER, "Lokaal 8A", "juf is ziek", TEACHER)
    drain(worker)
    moved = to_parents(catcher)
    assert all(len(m) == 2 for m in moved.values())
    second = moved["vader@example.nl"][1]
    assert second["Subject"] == "Nieuwe tijd: Gesprek over het schooladvies van Noor"
    calendar = calendar_of(second)
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == f"talk-{talk_id}@adviestraject"
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == LATER
    assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (9, 0)
    assert "\nReden: juf is ziek\n" in text_of(second)  # the school's reason reaches the parents
    assert "Reden:" not in text_of(moved["vader@example.nl"][0])  # the invitation has none

    school.talks.cancel(talk_id, "de ouders kwamen langs", TEACHER)
    drain(worker)
    mails = to_parents(catcher)
    assert sorted(mails) == ["moeder@example.nl", "vader@example.nl"]
    assert all(len(m) == 3 for m in mails.values())
    cancel = mails["moeder@example.nl"][2]
    assert cancel["Subject"] == "Gaat niet door: Gesprek over het schooladvies van Noor"
    calendar = calendar_of(cancel)
    event = event_of(calendar)
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == f"talk-{talk_id}@adviestraject"
    assert event["SEQUENCE"] == 2
    assert "/ouders/" not in text_of(cancel)
    assert "gaat niet door" in text_of(cancel)
    assert "\nReden: de ouders kwamen langs\n" in text_of(cancel)


def test_an_outbox_message_tried_again_sends_no_second_e_mail(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    planned_talk(school, clock, pupil)
    worker = smtp_worker(school, port)
    drain(worker)
    assert sum(len(m) for m in to_parents(catcher).values()) == 2

    # a worker that died before marking its messages done: both steps run again
    with school.engine.begin() as conn:
        again = conn.execute(
            update(outbox)
            .where(outbox.c.topic.in_([INVITATION_TOPIC, MAIL_TOPIC]))
            .values(done_at=None, claimed_until=None)
        )
        assert again.rowcount == 3
    drain(worker)

    assert sum(len(m) for m in to_parents(catcher).values()) == 2
    with school.engine.connect() as conn:
        mails = conn.execute(select(outbox.c.id).where(outbox.c.topic == MAIL_TOPIC)).all()
    assert len(mails) == 2
    assert worker.status().failed == 0


def test_a_parent_without_an_address_is_skipped_and_the_other_is_invited(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, (None, "Jeroen Bakker")])
    talk_id = planned_talk(school, clock, pupil)
    worker: OutboxWorker = smtp_worker(school, port)
    drain(worker)

    mails = to_parents(catcher)
    assert sorted(mails) == ["moeder@example.nl"]
    event = event_of(calendar_of(mails["moeder@example.nl"][0]))
    assert str(event["ATTENDEE"]) == "mailto:moeder@example.nl"
    assert len(school.talks.load(talk_id).invitations) == 1


def test_a_reminder_repeats_the_invitation_with_the_same_uid_and_sequence(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    talk_id = planned_talk(school, clock, pupil)
    worker = smtp_worker(school, port)
    drain(worker)

    clock.now = datetime(2026, 3, 15, 9, 0, tzinfo=DUTCH)  # two days before the talk
    school.talks.decide(talk_id, SendReminder(), TEACHER)
    drain(worker)

    mails = to_parents(catcher)
    assert all(len(m) == 2 for m in mails.values())
    reminder = mails["moeder@example.nl"][1]
    assert reminder["Subject"] == "Herinnering: Gesprek over het schooladvies van Noor"
    calendar = calendar_of(reminder)
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == f"talk-{talk_id}@adviestraject"
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == FIRST
    assert "https://adviestraject.bestuur.nl/ouders/" in text_of(reminder)
    reminded = {(s, kind) for s, _, kind in school.talks.load(talk_id).invitations}
    assert (0, "reminder") in reminded

    # the reminder's messages tried again: nobody gets it twice
    with school.engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.topic.in_([REMINDER_TOPIC, MAIL_TOPIC]))
            .values(done_at=None, claimed_until=None)
        )
    drain(worker)
    assert all(len(m) == 2 for m in to_parents(catcher).values())


def test_separated_parents_with_two_talks_each_get_their_own_invitation(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    school.policies.change(
        SCHOOL.id,
        SchoolYear(2025),
        SchoolPolicy(reconsideration_talk=TalkSettings(separate_parents=True, online=True)),
        user_id="d-1",
        user_name="Dirk Mol",
        role="directie",
        expected_version=0,
    )
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    heroverweging(school, clock, uuid.UUID(pupil))
    talk_ids = school.talks.request_all(pupil, TalkKind.RECONSIDERATION, TEACHER)
    assert len(talk_ids) == 2
    for talk_id, start in zip(talk_ids, (FIRST, LATER), strict=True):
        school.talks.plan(talk_id, start, None, TEACHER)
    drain(smtp_worker(school, port))

    mails = to_parents(catcher)
    assert sorted(mails) == ["moeder@example.nl", "vader@example.nl"]
    uids = set()
    for address, messages in mails.items():
        assert len(messages) == 1
        event = event_of(calendar_of(messages[0]))
        assert not isinstance(event["ATTENDEE"], list)  # one attendee: this parent only
        assert str(event["ATTENDEE"]) == f"mailto:{address}"
        assert event["LOCATION"] == "online"
        assert "Waar: online" in text_of(messages[0])
        uids.add(str(event["UID"]))
    assert uids == {f"talk-{t}@adviestraject" for t in talk_ids}


def test_an_address_the_server_refuses_for_good_fails_alone_and_says_why(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    catcher.unknown = {"vader@example.nl"}
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    talk_id = planned_talk(school, clock, pupil)
    worker = smtp_worker(school, port)
    drain(worker)

    assert sorted(to_parents(catcher)) == ["moeder@example.nl"]
    failed = [f for f in worker.failed() if f[1] == MAIL_TOPIC]
    assert len(failed) == 1
    assert "vader@example.nl" in failed[0][3]
    assert "550" in failed[0][3]
    assert len(school.talks.load(talk_id).invitations) == 1


def test_names_with_accents_reach_the_agenda_intact(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Anaïs", [("zoe@example.nl", "Zoë van 't Hof")])
    planned_talk(school, clock, pupil)
    drain(smtp_worker(school, port))

    (mail,) = to_parents(catcher)["zoe@example.nl"]
    assert mail["Subject"] == "Uitnodiging: Gesprek over het schooladvies van Anaïs"
    event = event_of(calendar_of(mail))
    assert event["SUMMARY"] == "Gesprek over het schooladvies van Anaïs"
    assert event["ATTENDEE"].params["CN"] == "Zoë van 't Hof"
    assert text_of(mail).startswith("Beste Zoë van 't Hof,\n")


def test_a_talk_cancelled_before_it_was_ever_planned_sends_the_parents_nothing_and_fails_nothing(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    heroverweging(school, clock, uuid.UUID(pupil))
    talk_id = school.talks.request(pupil, TalkKind.RECONSIDERATION, TEACHER)
    school.talks.cancel(talk_id, "De leerling heeft de school verlaten.", TEACHER)
    worker = smtp_worker(school, port)
    drain(worker)

    assert to_parents(catcher) == {}
    assert worker.status().failed == 0
    with school.engine.connect() as conn:
        pending = conn.execute(
            select(outbox.c.id).where(
                outbox.c.topic.in_([INVITATION_TOPIC, MAIL_TOPIC]), outbox.c.done_at.is_(None)
            )
        ).all()
    assert pending == []


def test_a_talk_cancelled_before_its_invitation_went_out_sends_no_cancellation_either(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    talk_id = planned_talk(school, clock, pupil)
    school.talks.cancel(talk_id, "Juf is ziek.", TEACHER)
    worker = smtp_worker(school, port)
    drain(worker)

    assert to_parents(catcher) == {}  # the invitation was overtaken, so nothing to cancel
    assert worker.status().failed == 0


def test_a_talk_moved_before_its_invitation_went_out_is_one_invitation_at_the_new_time(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_with_parents(school, "Noor", [MOTHER, FATHER])
    talk_id = planned_talk(school, clock, pupil)
    school.talks.move(talk_id, LATER, "Lokaal 8A", "juf is ziek", TEACHER)
    worker = smtp_worker(school, port)
    drain(worker)

    mails = to_parents(catcher)
    assert sorted(mails) == ["moeder@example.nl", "vader@example.nl"]
    assert all(len(m) == 1 for m in mails.values())
    [mail] = mails["moeder@example.nl"]
    assert mail["Subject"] == "Uitnodiging: Gesprek over het schooladvies van Noor"
    assert "is verzet" not in text_of(mail)
    event = event_of(calendar_of(mail))
    assert (event["SEQUENCE"], event["DTSTART"].dt) == (1, LATER)
    assert {k for _, _, k in school.talks.load(talk_id).invitations} == {"invitation"}
