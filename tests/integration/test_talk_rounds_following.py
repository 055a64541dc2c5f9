"""The worker's talks round follows the log on SQLite and PostgreSQL: after its first round it
re-plans only the schools where something changed (a publication at one school does not make
the planner look at another), a round in which nothing happened looks at no school, a reminder
falls due with time alone and still goes once after a restart, and a setting changed by another
process moves the moment it falls due."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.scheduling import availability, views
from service.scheduling.loop import TalkRounds
from service.scheduling.talks import Talks
from service.schools.policies import SchoolPolicies
from service.schools.register import Pupil, School
from service.store.schema import events, parents
from tests.conftest import Clock
from tests.integration.test_scheduling_talks import CTX, at
from workflows import planning
from workflows.availability import PublishedWindow
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil, GiveProvisionalAdvice, ReceiveTestResult
from workflows.conversations import TalkKind, TalkStatus
from workflows.policy import SchoolPolicy, TalkSettings
from workflows.scale import SchoolAdvice, TestAdvice

A = School("school-a", "01AA", "De Eerste School")
B = School("school-b", "02BB", "De Tweede School")


class Recorded:
    """The talks' published availability (`availability.of`), noting each school asked."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.asked: list[str] = []

    def __call__(self, school_id: str, round_key: str) -> Sequence[planning.Availability]:
        self.asked.append(school_id)
        return availability.of(self.container.store, school_id, round_key)


def teacher_and_talk(container: Container, clock: Clock, school: School) -> tuple[str, str]:
    """A teacher of 8A at `school` and a talk requested for her pupil in heroverweging (the
    toetsadvies vwo came in above havo on 12 March); the teacher's id and the talk's."""
    container.register.add_school(school)
    teacher = container.accounts.add_user(
        f"juf@{school.id}.nl", "Juf", Role.LEERKRACHT, [Scope(school.id, "8A")], None
    ).user_id
    pupil = uuid.uuid4()
    clock.now = at(20, 10, month=1)
    container.trajectories.execute(
        pupil,
        EnrolPupil(
            school_id=school.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
        ),
        CTX,
    )
    container.register.add_pupil(Pupil(str(pupil), school.id, "Noor", "de Vries", "8A"))
    with container.engine.begin() as conn:
        conn.execute(
            parents.insert().values(
                id=str(uuid.uuid4()), pupil_id=str(pupil), name="Ouder", email=f"o@{school.id}.nl"
            )
        )
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX
    )
    clock.now = at(12, 9)
    container.trajectories.execute(
        pupil,
        ReceiveTestResult(
            provider="IEP",
            delivery_id=f"d-{pupil}",
            test_advice=TestAdvice.VWO,
            received_on=date(2026, 3, 12),
        ),
        CTX,
    )
    return teacher, container.talks.request(str(pupil), TalkKind.RECONSIDERATION, CTX)


def publish(container: Container, clock: Clock, school: School, person: str) -> None:
    availability.publish(
        container.store,
        clock,
        school.id,
        person,
        "reconsideration",
        [PublishedWindow(at(17, 14), at(17, 17), "lokaal 8A")],
        actor=person,
        actor_name="Juf",
        role="leerkracht",
    )


def status(container: Container, talk_id: str) -> TalkStatus:
    row = views.talk(container.engine, talk_id)
    assert row is not None
    return row.status


def reminders(container: Container) -> int:
    with container.engine.connect() as conn:
        query = select(func.count()).where(events.c.event_type == "talk_reminder_sent")
        found: int = conn.execute(query).scalar_one()
        return found


def test_a_publication_at_one_school_re_plans_that_school_and_not_the_other(
    container: Container, clock: Clock
) -> None:
    teacher_a, talk_a = teacher_and_talk(container, clock, A)
    _, talk_b = teacher_and_talk(container, clock, B)
    recorded = Recorded(container)
    talks = Talks(
        container.store, container.engine, clock, container.policies, availability=recorded
    )
    rounds = TalkRounds(talks)
    rounds()  # the first round looks at every school with open requests
    assert sorted(set(recorded.asked)) == [A.id, B.id]
    recorded.asked.clear()
    assert rounds() == 0  # nothing happened: no school is looked at
    assert recorded.asked == []
    publish(container, clock, A, teacher_a)
    assert rounds() == 1
    assert set(recorded.asked) == {A.id}
    assert status(container, talk_a) is TalkStatus.PROPOSED
    assert status(container, talk_b) is TalkStatus.REQUESTED


def test_a_reminder_falls_due_with_time_alone_and_goes_once_also_after_a_restart(
    container: Container, clock: Clock
) -> None:
    _, talk_id = teacher_and_talk(container, clock, A)
    container.talks.plan(talk_id, at(19, 15), None, CTX)
    rounds = TalkRounds(container.talks)
    clock.now = at(17, 14)
    rounds()
    rounds()
    assert reminders(container) == 0
    clock.now = at(17, 15, 1)  # two days before, and nothing happened in the log meanwhile
    assert rounds() == 1
    assert reminders(container) == 1
    restarted = TalkRounds(container.talks)
    assert restarted() == 0
    assert rounds() == 0
    clock.now = at(18, 9)
    assert restarted() == 0
    assert rounds() == 0
    assert reminders(container) == 1


def test_a_changed_setting_moves_the_moment_the_reminder_falls_due(
    container: Container, clock: Clock
) -> None:
    _, talk_id = teacher_and_talk(container, clock, A)
    container.talks.plan(talk_id, at(19, 15), None, CTX)  # a Thursday
    rounds = TalkRounds(container.talks)
    clock.now = at(13, 16)  # six days before: nothing yet with the default of two days
    rounds()
    assert reminders(container) == 0
    server = SchoolPolicies(container.store, clock)  # the settings page, in another process
    server.change(
        A.id,
        SchoolYear(2025),
        SchoolPolicy(reconsideration_talk=TalkSettings(reminder_days_before=6)),
        user_id="d",
        user_name="Dirk",
        role="directie",
        expected_version=server.settings(A.id).version,
    )
    assert rounds() == 1
    assert reminders(container) == 1
