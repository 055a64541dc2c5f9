"""Heroverweging notices reach the pupil's class teachers and the school's IB: by e-mail through
the outbox (a real SMTP server, aiosmtpd, on a free port) and on their start page
(`open_notices`). On SQLite and on PostgreSQL (the `container` fixture runs both)."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container
from service.notices.reconsideration import MAIL_TOPIC, fan_out_reconsideration, open_notices
from service.outbox.mail import FileMailer, mailer_from
from service.outbox.outbox import OutboxWorker
from service.outbox.smtp import SmtpMailer
from service.schools.register import Pupil, School
from service.store.schema import outbox
from tests.conftest import Clock
from tests.e2e.web import log_in
from workflows.calendar import SchoolYear
from workflows.commands import (
    EnrolPupil,
    GiveFinalAdvice,
    GiveProvisionalAdvice,
    RaiseAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty
from workflows.policy import Notice, Recipients, SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice

CTX = CommandContext(actor=Actor("leerkracht-1", "leerkracht"), request_id="r-1")
SCHOOL = School("school-1", "99ZZ", "De Vuurtoren")
OTHER = School("school-2", "88YY", "De Linde")
TEACHERS_8A = ["anna@school.nl", "bram@school.nl"]
IB = "ib@school.nl"
PASSWORD = "lang-genoeg-wachtwoord-1"


@dataclass
class Catcher:
    """What the SMTP server received; it refuses while told to."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse_data: int = 0  # this many DATA commands get a temporary 451
    unknown: set[str] = field(default_factory=set)  # recipients refused with 550

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 Onbekende ontvanger"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.refuse_data:
            self.refuse_data -= 1
            return "451 4.3.0 Tijdelijk niet beschikbaar"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def by_recipient(self) -> dict[str, EmailMessage]:
        found: dict[str, EmailMessage] = {}
        for rcpt_tos, message in self.received:
            for to in rcpt_tos:
                assert to not in found, f"{to} got two e-mails"
                found[to] = message
        return found


def text_of(message: EmailMessage) -> str:
    """The body as the reader sees it (SMTP carries CRLF line ends)."""
    content: str = message.get_content()
    return content.replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


@pytest.fixture
def school(container: Container) -> Container:
    """The school with its accounts: two teachers of 8A, one of 8B, an IB, a disabled IB, the
    directie, and an IB of another school."""
    container.register.add_school(SCHOOL)
    container.register.add_school(OTHER)
    accounts = container.accounts
    for address, name in zip(TEACHERS_8A, ["Anna de Wit", "Bram Visser"], strict=True):
        accounts.add_user(address, name, Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")], PASSWORD)
    accounts.add_user("cor@school.nl", "Cor Smit", Role.LEERKRACHT, [Scope(SCHOOL.id, "8B")])
    accounts.add_user(IB, "Ilse Bakker", Role.IB, [Scope(SCHOOL.id)])
    accounts.add_user("oud-ib@school.nl", "Oud IB", Role.IB, [Scope(SCHOOL.id)])
    accounts.disable("oud-ib@school.nl")
    accounts.add_user("directie@school.nl", "Dirk Mol", Role.DIRECTIE, [Scope(SCHOOL.id)])
    accounts.add_user("ib@linde.nl", "Lies Linde", Role.IB, [Scope(OTHER.id)])
    return container


def pupil_in(container: Container, class_name: str, school: School = SCHOOL) -> uuid.UUID:
    pupil = uuid.uuid4()
    container.register.add_pupil(Pupil(str(pupil), school.id, "Daan", "Jansen", class_name))
    enrol = EnrolPupil(
        school_id=school.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    container.trajectories.execute(pupil, enrol, CTX)
    return pupil


def heroverweging(container: Container, clock: Clock, pupil: uuid.UUID) -> None:
    clock.now = clock.now.replace(month=1, day=20)
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX
    )
    clock.now = clock.now.replace(month=3, day=12)
    container.trajectories.execute(
        pupil,
        ReceiveTestResult(
            provider="IEP",
            delivery_id=f"d-{pupil}",
            test_advice=TestAdvice.VWO,
            received_on=date(2026, 3, 11),
        ),
        CTX,
    )


def smtp_worker(container: Container, port: int) -> OutboxWorker:
    container.settings = container.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout": 5.0,
            "mail_from": "adviestraject@bestuur.nl",
            "public_url": "https://adviestraject.bestuur.nl",
        }
    )
    assert isinstance(mailer_from(container.settings), SmtpMailer)
    return container.outbox_worker()


def drain(worker: OutboxWorker) -> None:
    while worker.run_once():
        pass


def test_the_class_teachers_and_the_ib_each_get_one_dutch_e_mail_without_pupil_data(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_in(school, "8A")
    heroverweging(school, clock, pupil)
    worker = smtp_worker(school, port)
    drain(worker)
    mails = catcher.by_recipient()
    assert sorted(mails) == sorted([*TEACHERS_8A, IB])
    anna = mails["anna@school.nl"]
    assert anna["From"] == "adviestraject@bestuur.nl"
    assert anna["To"] == "anna@school.nl"
    assert anna["Subject"] == "Heroverweging nodig: een leerling van groep 8A"
    body = text_of(anna)
    assert body.startswith("Beste Anna de Wit,\n\nVoor een leerling van groep 8A (De Vuurtoren) ")
    assert "het toetsadvies van de doorstroomtoets is hoger dan het voorlopig" in body
    assert "uiterlijk 24-03-2026" in body
    assert "Voer vóór het besluit het gesprek met de ouders en de leerling" in body
    assert f"https://adviestraject.bestuur.nl/leerlingen/{pupil}\n" in body
    assert "als leerkracht van deze groep" in body
    assert "als intern begeleider van de school" in text_of(mails[IB])
    for message in mails.values():
        text = f"{message['Subject']}\n{text_of(message)}".casefold()
        for secret in ("daan", "jansen", "havo", "vwo"):
            assert secret not in text, f"{secret!r} in the e-mail to {message['To']}"
    # one outbox message per recipient, each done; nothing is sent twice
    assert worker.status().failed == 0
    assert worker.status().pending == 0
    drain(worker)
    assert len(catcher.received) == 3


def test_a_mail_server_that_refuses_or_is_down_delays_the_e_mail_and_loses_none(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    pupil = pupil_in(school, "8A")
    heroverweging(school, clock, pupil)
    catcher.refuse_data = 2  # two of the three e-mails get "451 try again later"
    worker = smtp_worker(school, port)
    drain(worker)
    assert len(catcher.received) == 1
    with school.engine.connect() as conn:
        waiting = conn.execute(
            select(outbox.c.attempts, outbox.c.last_error, outbox.c.done_at).where(
                outbox.c.topic == MAIL_TOPIC, outbox.c.done_at.is_(None)
            )
        ).all()
    assert [(w.attempts, w.done_at) for w in waiting] == [(1, None), (1, None)]
    assert all("451" in (w.last_error or "") for w in waiting)

    # the server is gone meanwhile: the retry fails on the connection, again nothing is lost
    dead = smtp_worker(school, free_port())
    clock.now += timedelta(seconds=5)
    drain(dead)
    assert dead.status().pending == 2
    assert dead.status().failed == 0

    clock.now += timedelta(seconds=10)  # the second backoff
    drain(worker)
    mails = catcher.by_recipient()
    assert sorted(mails) == sorted([*TEACHERS_8A, IB])
    with school.engine.connect() as conn:
        ids = conn.execute(select(outbox.c.id).where(outbox.c.topic == MAIL_TOPIC)).scalars()
        expected = {f"<outbox-{i}@adviestraject>" for i in ids}
    assert {m["Message-ID"] for m in mails.values()} == expected
    assert worker.status().pending == 0
    assert worker.status().failed == 0


def test_a_recipient_the_server_refuses_for_good_is_reported_and_the_others_are_sent(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    catcher.unknown = {IB}
    heroverweging(school, clock, pupil_in(school, "8A"))
    worker = smtp_worker(school, port)
    drain(worker)
    assert sorted(catcher.by_recipient()) == sorted(TEACHERS_8A)
    [(_, topic, attempts, error)] = worker.failed()
    assert (topic, attempts) == (MAIL_TOPIC, 1)
    assert "550" in error
    assert IB in error


def test_teachers_of_other_classes_and_other_schools_get_nothing(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    heroverweging(school, clock, pupil_in(school, "8B"))
    drain(smtp_worker(school, port))
    assert sorted(catcher.by_recipient()) == sorted(["cor@school.nl", IB])


def test_a_school_without_teacher_and_ib_tells_its_directie_and_without_anyone_fails_visibly(
    container: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    container.register.add_school(SCHOOL)
    container.accounts.add_user("dir@school.nl", "Dirk Mol", Role.DIRECTIE, [Scope(SCHOOL.id)])
    heroverweging(container, clock, pupil_in(container, "8A"))
    worker = smtp_worker(container, port)
    drain(worker)
    assert sorted(catcher.by_recipient()) == ["dir@school.nl"]
    assert "als directie van de school" in text_of(catcher.received[0][1])

    container.register.add_school(OTHER)
    heroverweging(container, clock, pupil_in(container, "8A", OTHER))
    drain(worker)
    [(_, topic, _, error)] = worker.failed()
    assert topic == "notify_reconsideration_required"
    assert "nobody to tell" in error
    # the school adds its IB, the operator retries: the notice goes out
    container.accounts.add_user("ib@linde.nl", "Lies Linde", Role.IB, [Scope(OTHER.id)])
    assert worker.retry_failed() == 1
    drain(worker)
    assert sorted(catcher.by_recipient()) == ["dir@school.nl", "ib@linde.nl"]


def test_the_fan_out_runs_once_however_often_its_message_is_handled(
    school: Container, clock: Clock
) -> None:
    """A worker that died after writing the e-mails' messages but before marking the notice
    done: the notice is handled again and adds no second set."""
    heroverweging(school, clock, pupil_in(school, "8A"))
    worker = school.outbox_worker()
    [notice] = [m for m in worker.claim(10) if m.topic == "notify_reconsideration_required"]
    handler = fan_out_reconsideration(school.engine, school.register, school.policies, school.clock)
    handler(notice)
    handler(notice)
    with school.engine.connect() as conn:
        mails = conn.execute(select(outbox.c.id).where(outbox.c.topic == MAIL_TOPIC)).all()
    assert len(mails) == 3


def test_the_school_setting_decides_who_gets_the_notice_by_mail_and_on_the_start_page(
    school: Container, clock: Clock, smtp: tuple[Catcher, int]
) -> None:
    catcher, port = smtp
    year = SchoolYear(2025)
    only_directie = Recipients(
        class_teachers=False, ib=False, directie=True, extra=("groep8@school.nl",)
    )
    school.policies.change(
        SCHOOL.id,
        year,
        SchoolPolicy(
            conversation_required=False,
            notices={Notice.RECONSIDERATION_REQUIRED: only_directie},
        ),
        user_id="d-1",
        user_name="Dirk Mol",
        role="directie",
        expected_version=0,
    )
    pupil = pupil_in(school, "8A")
    heroverweging(school, clock, pupil)
    drain(smtp_worker(school, port))
    mails = catcher.by_recipient()
    assert sorted(mails) == ["directie@school.nl", "groep8@school.nl"]
    assert "als directie van de school" in text_of(mails["directie@school.nl"])
    assert "Beste collega," in text_of(mails["groep8@school.nl"])
    assert "Een gesprek met de ouders en de leerling vóór het besluit wordt aangeraden." in (
        text_of(mails["groep8@school.nl"])
    )

    def notices_of(address: str) -> list[str]:
        [who] = [p for p in school.accounts.list_users() if p.email == address]
        return [n.pupil_id for n in open_notices(school, who)]

    assert notices_of("directie@school.nl") == [str(pupil)]
    assert notices_of("anna@school.nl") == []
    assert notices_of(IB) == []


def test_without_smtp_the_e_mails_are_eml_files(school: Container, clock: Clock) -> None:
    assert isinstance(mailer_from(school.settings), FileMailer)
    pupil = pupil_in(school, "8A")
    heroverweging(school, clock, pupil)
    drain(school.outbox_worker())
    files = sorted(school.settings.mail_dir.glob("*.eml"))
    recipients = sorted(
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"] for f in files
    )
    assert recipients == sorted([*TEACHERS_8A, IB])
    assert f"http://127.0.0.1:8000/leerlingen/{pupil}" in files[0].read_text(encoding="utf-8")


def test_the_start_page_notices_are_the_open_heroverwegingen_in_my_scope(
    school: Container, clock: Clock
) -> None:
    late = pupil_in(school, "8A")
    heroverweging(school, clock, late)
    other_class = pupil_in(school, "8B")
    heroverweging(school, clock, other_class)
    pupil_in(school, "8A")  # no heroverweging

    def notices_of(address: str) -> list[tuple[str, str]]:
        [who] = [p for p in school.accounts.list_users() if p.email == address]
        return [(n.pupil_id, n.class_name) for n in open_notices(school, who)]

    assert notices_of("anna@school.nl") == [(str(late), "8A")]
    assert notices_of("cor@school.nl") == [(str(other_class), "8B")]
    assert sorted(notices_of(IB)) == sorted([(str(late), "8A"), (str(other_class), "8B")])
    assert notices_of("directie@school.nl") == []
    assert notices_of("ib@linde.nl") == []

    [anna] = [p for p in school.accounts.list_users() if p.email == "anna@school.nl"]
    [notice] = open_notices(school, anna)
    assert notice.title == "Heroverweging nodig"
    assert notice.pupil_name == "Daan Jansen"
    assert notice.url == f"/leerlingen/{late}"
    assert notice.deadline == date(2026, 3, 24)
    assert not notice.overdue
    clock.now = clock.now.replace(month=3, day=25)
    assert open_notices(school, anna)[0].overdue

    # open until the definitief advies is given (as on the worklist), then gone
    school.trajectories.execute(
        late,
        RecordConversationHeld(held_on=date(2026, 3, 13), attendees=(ConversationParty.PARENTS,)),
        CTX,
    )
    school.trajectories.execute(
        late, RaiseAdvice(advice=SchoolAdvice.VWO, decided_on=date(2026, 3, 13)), CTX
    )
    assert len(open_notices(school, anna)) == 1
    school.trajectories.execute(late, GiveFinalAdvice(given_on=date(2026, 3, 13)), CTX)
    assert open_notices(school, anna) == []


def test_the_link_in_the_e_mail_opens_the_pupil_page_after_login_only_for_the_recipients(
    school: Container, clock: Clock
) -> None:
    pupil = pupil_in(school, "8A")
    heroverweging(school, clock, pupil)
    drain(school.outbox_worker())
    [file, *_] = sorted(school.settings.mail_dir.glob("*.eml"))
    text = file.read_text(encoding="utf-8")
    link = re.search(r"http://127\.0\.0\.1:8000(/leerlingen/[0-9a-f-]+)\n", text)
    assert link
    path = link.group(1)
    app = create_app(school)
    with TestClient(app, follow_redirects=False) as anonymous:
        answer = anonymous.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")
        assert "Daan" not in answer.text
    with TestClient(app, follow_redirects=False) as anna:
        log_in(anna, "anna@school.nl", PASSWORD)
        page = anna.get(path)
        assert page.status_code == 200
        assert "Daan Jansen" in page.text
    school.accounts.set_password("cor@school.nl", PASSWORD)  # a teacher of 8B
    with TestClient(app, follow_redirects=False) as cor:
        log_in(cor, "cor@school.nl", PASSWORD)
        assert cor.get(path).status_code == 404
