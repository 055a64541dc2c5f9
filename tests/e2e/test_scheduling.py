"""Talks end to end, through the ASGI app and the worker's steps: the heroverweging
conversation's API refuses a double booking, a Sunday night and a time after the deadline with
a problem+json in Dutch and stores nothing; a `reconsideration_required` gets one talk, planned
in the published availability, however often its outbox message is handled; a reminder goes
once, two days before; directie is warned once per cause; and the talks read model rebuilt from
the log equals the live one."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.projections.talks import rebuild
from service.scheduling import availability, views
from service.scheduling.loop import TalkRounds
from service.schools.register import Pupil, School
from service.shared.context import Actor, CommandContext
from service.store.schema import events, outbox, parents, talks
from tests.conftest import Clock, enrolled_pupil
from workflows.availability import PublishedWindow
from workflows.commands import GiveProvisionalAdvice, ReceiveTestResult
from workflows.conversations import TalkStatus
from workflows.scale import SchoolAdvice, TestAdvice

AMS = ZoneInfo("Europe/Amsterdam")
SCHOOL = School("school-1", "01AA", "De Eerste School")
SETUP = CommandContext(actor=Actor("setup", "beheer"))


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


class School8A:
    """A school with a teacher of 8A, IB and directie (API clients), pupils in heroverweging."""

    def __init__(self, container: Container, clock: Clock) -> None:
        self.container, self.clock = container, clock
        container.register.add_school(SCHOOL)
        self.ids: dict[Role, str] = {}
        self.clients: dict[Role, TestClient] = {}
        app = create_app(container)
        for role, scope in ((Role.LEERKRACHT, "8A"), (Role.IB, ""), (Role.DIRECTIE, "")):
            email = f"{role.value}@school.nl"
            user = container.accounts.add_user(email, role.label, role, [Scope(SCHOOL.id, scope)])
            self.ids[role] = user.user_id
            token = container.accounts.issue_token(email, "tests", days=365).token
            client = TestClient(
                app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
            )
            self.clients[role] = client.__enter__()

    def close(self) -> None:
        for client in self.clients.values():
            client.__exit__(None, None, None)

    def pupil(self, email: str = "ouder@thuis.nl") -> str:
        """A pupil of 8A with a parent, whose toetsadvies came in above the advice on 12 March."""
        self.clock.now = at(20, 10, month=1)
        pupil = enrolled_pupil(self.container)
        self.container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
        with self.container.engine.begin() as conn:
            conn.execute(
                parents.insert().values(
                    id=str(uuid.uuid4()), pupil_id=str(pupil), name="Ouder", email=email
                )
            )
        self.container.trajectories.execute(
            pupil,
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
            SETUP,
        )
        self.clock.now = at(12, 9)
        self.container.trajectories.execute(
            pupil,
            ReceiveTestResult(
                provider="IEP",
                delivery_id=f"d-{pupil}",
                test_advice=TestAdvice.VWO,
                received_on=date(2026, 3, 12),
            ),
            SETUP,
        )
        return str(pupil)

    def plan(self, pupil: str, when: str) -> Any:
        return self.clients[Role.LEERKRACHT].post(
            f"/api/v1/pupils/{pupil}/reconsideration/conversation", json={"planned_at": when}
        )

    def publish(self, person: str, *windows: tuple[datetime, datetime]) -> None:
        availability.publish(
            self.container.store,
            self.clock,
            SCHOOL.id,
            person,
            "reconsideration",
            [PublishedWindow(start, end, "lokaal 8A") for start, end in windows],
            actor=person,
            actor_name="Juf",
            role="leerkracht",
        )

    def count(self, table: Any, *where: Any) -> int:
        with self.container.engine.connect() as conn:
            total: int = conn.execute(
                select(func.count()).select_from(table).where(*where)
            ).scalar_one()
            return total

    def work_outbox(self) -> None:
        worker = self.container.outbox_worker()
        while worker.run_once():
            pass


@pytest.fixture
def school(container: Container, clock: Clock) -> Iterator[School8A]:
    s = School8A(container, clock)
    yield s
    s.close()


def test_a_double_booking_a_sunday_night_and_a_time_after_the_deadline_are_refused(
    school: School8A,
) -> None:
    noor, sara = school.pupil(), school.pupil("ander@thuis.nl")
    first = school.plan(noor, "2026-03-16T15:00:00+01:00")
    assert first.status_code == 201, first.text
    assert first.json()["event_types"] == ["reconsideration_conversation_planned"]
    before = school.count(events)
    for when, code, words in (
        ("2026-03-16T15:15:00+01:00", "double_booked_staff", "al een gesprek"),
        ("2026-03-15T23:30:00+01:00", "outside_school_hours", "zondag 15 maart om 23:30"),
        ("2026-04-10T15:00:00+02:00", "after_deadline", "uiterlijk"),
    ):
        refused = school.plan(sara, when)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["code"] == code
        assert words in problem["detail"]
        assert problem["errors"][0]["field"] == "planned_at"
    assert school.count(events) == before  # nothing stored, not even a talk request
    assert views.for_pupil(school.container.engine, sara) == []


def test_a_heroverweging_gets_one_talk_planned_in_the_published_availability(
    school: School8A,
) -> None:
    teacher = school.ids[Role.LEERKRACHT]
    school.publish(teacher, (at(17, 14), at(17, 17)))
    noor = school.pupil()
    school.work_outbox()
    [talk] = views.for_pupil(school.container.engine, noor)
    assert talk.status is TalkStatus.PROPOSED
    assert talk.start is not None
    assert at(17, 14) <= talk.start
    assert talk.end is not None
    assert talk.end <= at(17, 17)
    assert talk.staff == (teacher,)
    talk_events = school.count(events, events.c.stream_id == f"conversation-{talk.talk_id}")
    # the message handled again (a worker died after the work, before marking it done)
    with school.container.engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.topic == "notify_reconsideration_required")
            .values(done_at=None, claimed_until=None)
        )
    school.work_outbox()
    assert len(views.for_pupil(school.container.engine, noor)) == 1
    assert school.count(events, events.c.stream_id == f"conversation-{talk.talk_id}") == talk_events


def test_a_reminder_goes_once_two_days_before_the_talk(school: School8A) -> None:
    noor = school.pupil()
    school.plan(noor, "2026-03-19T15:00:00+01:00")
    rounds = TalkRounds(school.container.talks)
    school.clock.now = at(17, 14)  # more than two days before
    rounds()
    assert school.count(events, events.c.event_type == "talk_reminder_sent") == 0
    school.clock.now = at(17, 15, 30)
    rounds()
    rounds()
    assert school.count(events, events.c.event_type == "talk_reminder_sent") == 1
    assert school.count(outbox, outbox.c.topic == "talk_reminder") == 1


def test_a_talk_planned_within_the_two_days_gets_no_reminder_on_top_of_its_invitation(
    school: School8A,
) -> None:
    noor = school.pupil()  # 12 March 09:00
    assert school.plan(noor, "2026-03-13T15:00:00+01:00").status_code == 201
    rounds = TalkRounds(school.container.talks)
    school.clock.now = at(12, 10)
    rounds()
    school.clock.now = at(13, 9)
    rounds()
    assert school.count(events, events.c.event_type == "talk_reminder_sent") == 0


def test_directie_is_warned_once_when_no_time_was_proposed_within_a_working_day(
    school: School8A,
) -> None:
    noor = school.pupil()  # 12 March, a Thursday; nobody published availability
    school.work_outbox()
    [talk] = views.for_pupil(school.container.engine, noor)
    assert talk.status is TalkStatus.REQUESTED
    rounds = TalkRounds(school.container.talks)
    school.clock.now = at(13, 8)
    rounds()
    assert school.count(events, events.c.event_type == "talk_escalated") == 0
    school.clock.now = at(13, 10)  # a working day after the request
    rounds()
    rounds()
    assert school.count(events, events.c.event_type == "talk_escalated") == 1
    school.work_outbox()
    school.work_outbox()
    mails = [
        message
        for p in school.container.settings.mail_dir.glob("*.eml")
        if "Gesprek in gevaar"
        in (message := email.message_from_bytes(p.read_bytes(), policy=email.policy.default))[
            "Subject"
        ]
    ]
    assert len(mails) == 1
    [mail] = mails
    body = mail.get_content()
    assert mail["To"] == "directie@school.nl"
    assert "/gesprekken/risico" in body
    assert "/beschikbaarheid?ronde=reconsideration" in body
    assert "Noor" not in body  # no pupil's name in the e-mail
    [row] = views.at_risk(school.container.engine, {SCHOOL.id}, school.clock.now)
    assert row.talk_id == talk.talk_id
    assert row.at_risk_reason is not None
    assert "werkdag" in row.at_risk_reason


def test_the_talks_read_model_rebuilt_from_the_log_equals_the_live_one(school: School8A) -> None:
    school.publish(school.ids[Role.LEERKRACHT], (at(17, 14), at(17, 17)))
    for address in ("a@thuis.nl", "b@thuis.nl", "c@thuis.nl"):
        school.pupil(address)
    school.work_outbox()
    school.clock.now = at(16, 12)
    TalkRounds(school.container.talks)()

    def snapshot() -> list[tuple[object, ...]]:
        with school.container.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(talks).order_by(talks.c.talk_id))]

    live = snapshot()
    assert len(live) == 3
    assert rebuild(school.container.engine) == 3
    assert snapshot() == live
