"""The school's setting "leerkracht van groep 7" on SQLite and PostgreSQL: the service knows the
pupil's groep 7 teacher when a teacher's account recorded something on the pupil's trajectory
while the pupil was in groep 7 (the oriënterend advies), and then plans the talk with them (their
bookings count); when it cannot know, the talk is planned without them and says so
("leerkracht van groep 7 niet bekend"), instead of silently leaving them out."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.scheduling import views
from service.scheduling.talks import PlanningRefused
from service.schools.register import Pupil
from service.shared.context import Actor, CommandContext
from service.store.schema import parents
from tests.conftest import Clock
from tests.integration.test_scheduling_rounds import set_policy
from tests.integration.test_scheduling_talks import (
    AMS,
    CTX,
    SCHOOL,
    at,
    pupil_in_heroverweging,
    staff,
)
from workflows.commands import (
    Command,
    EnrolPupil,
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    MoveToGroep8,
    ReceiveTestResult,
)
from workflows.conversations import TalkKind
from workflows.policy import Attendee, SchoolPolicy, TalkSettings
from workflows.scale import SchoolAdvice, TestAdvice

WITH_GROEP_7 = TalkSettings(attendees=frozenset({Attendee.CLASS_TEACHER, Attendee.GROEP_7_TEACHER}))


def groep_7_teacher(container: Container) -> str:
    return container.accounts.add_user(
        "bas@school.nl", "Meester Bas", Role.LEERKRACHT, [Scope(SCHOOL.id, "7B")], None
    ).user_id


def pupil_from_groep_7(container: Container, clock: Clock, teacher: str) -> str:
    """A pupil who was in groep 7 here last year (oriënterend advies by `teacher`), now in 8A,
    whose toetsadvies (vwo) came in above havo on 12 March 2026."""
    pupil = uuid.uuid4()
    teacher_ctx = CommandContext(actor=Actor(teacher, "leerkracht"))
    ib = CommandContext(actor=Actor("ib", "ib"))
    steps: list[tuple[date, Command, CommandContext]] = [
        (
            date(2024, 8, 26),
            EnrolPupil(
                school_id=SCHOOL.id, school_year="2024-2025", groep=7, enrolled_on=date(2024, 8, 26)
            ),
            ib,
        ),
        (
            date(2025, 6, 10),
            GiveOrientationAdvice(advice=SchoolAdvice.HAVO, given_on=date(2025, 6, 10)),
            teacher_ctx,
        ),
        (
            date(2025, 8, 25),
            MoveToGroep8(school_year="2025-2026", entered_on=date(2025, 8, 25)),
            ib,
        ),
        (
            date(2026, 1, 15),
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
            CTX,
        ),
        (
            date(2026, 3, 12),
            ReceiveTestResult(
                provider="IEP",
                delivery_id=f"d-{pupil}",
                test_advice=TestAdvice.VWO,
                received_on=date(2026, 3, 12),
            ),
            CTX,
        ),
    ]
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Sam", "Jansen", "8A"))
    with container.engine.begin() as conn:
        conn.execute(
            parents.insert().values(
                id=str(uuid.uuid4()), pupil_id=str(pupil), name="Ouder", email="sam@thuis.nl"
            )
        )
    for day, command, context in steps:
        clock.now = datetime(day.year, day.month, day.day, 12, tzinfo=AMS)
        container.trajectories.execute(pupil, command, context)
    return str(pupil)


def test_the_groep_7_teacher_who_gave_the_orienterend_advies_attends(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)
    bas = groep_7_teacher(container)
    set_policy(container, SchoolPolicy(reconsideration_talk=WITH_GROEP_7))
    pupil = pupil_from_groep_7(container, clock, bas)
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    talk = container.talks.load(talk_id)
    assert set(talk.requested.staff) == {ids["leerkracht"], bas}
    assert talk.requested.unknown_attendees == ()
    # Meester Bas's own bookings count: he is not free at 15:00 on 17 March
    other = pupil_in_heroverweging(container, clock, ("ander@thuis.nl",))
    other_talk = container.talks.request(other, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(other_talk, at(17, 15), None, CTX, staff=(bas,))
    with pytest.raises(PlanningRefused) as refused:
        container.talks.plan(talk_id, at(17, 15), None, CTX)
    assert "Meester Bas" in str(refused.value)
    container.talks.plan(talk_id, at(17, 16), None, CTX)
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert set(row.staff) == {ids["leerkracht"], bas}


def test_an_unknown_groep_7_teacher_is_said_on_the_talk_not_left_out_silently(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)
    groep_7_teacher(container)
    set_policy(container, SchoolPolicy(reconsideration_talk=WITH_GROEP_7))
    pupil = pupil_in_heroverweging(container, clock)  # enrolled straight into groep 8
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    talk = container.talks.load(talk_id)
    assert talk.requested.staff == (ids["leerkracht"],)
    assert talk.requested.unknown_attendees == (Attendee.GROEP_7_TEACHER.value,)
    container.talks.plan(talk_id, at(17, 15), None, CTX)  # planned without them
    container.accounts.add_user(
        "ib2@school.nl", "Iris", Role.IB, [Scope(SCHOOL.id)], "een-lang-wachtwoord"
    )
    client = TestClient(create_app(container), follow_redirects=False)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[0]
    login = {"email": "ib2@school.nl", "password": "een-lang-wachtwoord", "csrf_token": token}
    assert client.post("/login", data=login).status_code == 303
    page = client.get(f"/gesprekken/{talk_id}")
    assert page.status_code == 200
    assert "Leerkracht van groep 7 niet bekend" in page.text
