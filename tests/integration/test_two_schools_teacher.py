"""A teacher who works at two schools, on SQLite and PostgreSQL: her talk at the other school
blocks her at this one, for the planner (it places the talk at a time she is free there too,
instead of proposing one that is then refused) and for a duo class whose talk is planned by hand
(the other teacher of the duo attends)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.scheduling import availability, views
from service.schools.register import Pupil, School
from tests.conftest import Clock
from tests.integration.test_scheduling_talks import (
    AMS,
    CTX,
    SCHOOL,
    at,
    pupil_in_heroverweging,
    staff,
)
from workflows.availability import PublishedWindow
from workflows.commands import EnrolPupil, GiveProvisionalAdvice, ReceiveTestResult
from workflows.conversations import TalkKind
from workflows.scale import SchoolAdvice, TestAdvice

OTHER = School("school-2", "02BB", "De Tweede School")


def teacher_at_both(container: Container, email: str = "anna@scholen.nl") -> str:
    container.register.add_school(OTHER)
    scopes = [Scope(SCHOOL.id, "8A"), Scope(OTHER.id, "8C")]
    return container.accounts.add_user(email, "Juf Anna", Role.LEERKRACHT, scopes, None).user_id


def booked_at_the_other_school(container: Container, clock: Clock, anna: str) -> None:
    """A pupil of 8C at the other school whose talk with Juf Anna is on 17 March at 15:00."""
    pupil = uuid.uuid4()
    container.register.add_pupil(Pupil(str(pupil), OTHER.id, "Tim", "Bakker", "8C"))
    for day, command in (
        (
            date(2025, 8, 25),
            EnrolPupil(
                school_id=OTHER.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
            ),
        ),
        (
            date(2026, 1, 15),
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
        ),
        (
            date(2026, 3, 12),
            ReceiveTestResult(
                provider="IEP",
                delivery_id=f"d-{pupil}",
                test_advice=TestAdvice.VWO,
                received_on=date(2026, 3, 12),
            ),
        ),
    ):
        clock.now = datetime(day.year, day.month, day.day, 9, tzinfo=AMS)
        container.trajectories.execute(pupil, command, CTX)
    talk_id = container.talks.request(str(pupil), TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX, staff=(anna,))


def publish(
    container: Container, clock: Clock, person: str, *windows: tuple[datetime, datetime]
) -> None:
    availability.publish(
        container.store,
        clock,
        SCHOOL.id,
        person,
        "reconsideration",
        [PublishedWindow(start, end, "lokaal 8A") for start, end in windows],
        actor=person,
        actor_name="Juf",
        role="leerkracht",
    )


def test_the_planner_sees_her_talk_at_the_other_school(container: Container, clock: Clock) -> None:
    container.register.add_school(SCHOOL)
    anna = teacher_at_both(container)
    booked_at_the_other_school(container, clock, anna)
    pupil = pupil_in_heroverweging(container, clock)
    publish(container, clock, anna, (at(17, 15), at(17, 15, 30)), (at(18, 15), at(18, 15, 30)))
    clock.now = at(13, 9)
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    report = container.talks.plan_open(SCHOOL.id, CTX, talk_ids=[talk_id])
    assert report.planned == [talk_id]
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert (row.start, row.staff) == (at(18, 15), (anna,))


def test_a_duo_talk_planned_by_hand_takes_the_teacher_who_is_free(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)  # Juf Anna of 8A at this school only
    bea = teacher_at_both(container, "bea@scholen.nl")  # the duo partner, also at the other school
    booked_at_the_other_school(container, clock, bea)
    pupil = pupil_in_heroverweging(container, clock)
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    assert views.talk(container.engine, talk_id).requested_staff == ()  # type: ignore[union-attr]
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert row.staff == (ids["leerkracht"],)
