"""The pupil page's gesprek-plannen form goes through the talk: a time that double-books the
teacher, falls on a Sunday night or after the deadline is refused on the form in Dutch (422,
beside the time), and nothing is stored; a free time is planned and shows in the talks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.scheduling import views
from service.schools.register import Pupil, School
from service.shared.context import Actor, CommandContext
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.web import start_session, submit
from workflows.commands import GiveProvisionalAdvice, ReceiveTestResult
from workflows.conversations import TalkStatus
from workflows.scale import SchoolAdvice, TestAdvice

AMS = ZoneInfo("Europe/Amsterdam")
SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
TEACHER = "juf@school.nl"
SETUP = CommandContext(actor=Actor("setup", "beheer"))


@pytest.fixture
def browser(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    container.accounts.add_user(TEACHER, "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")])
    with TestClient(
        create_app(container), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def in_heroverweging(container: Container, clock: Clock) -> uuid.UUID:
    clock.now = datetime(2026, 1, 20, 10, tzinfo=AMS)
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), SETUP
    )
    clock.now = datetime(2026, 3, 12, 9, tzinfo=AMS)
    container.trajectories.execute(
        pupil,
        ReceiveTestResult(
            provider="IEP",
            delivery_id=f"d-{pupil}",
            test_advice=TestAdvice.VWO,
            received_on=date(2026, 3, 12),
        ),
        SETUP,
    )
    return pupil


def test_the_plan_form_refuses_a_taken_time_a_sunday_night_and_april_in_dutch(
    browser: TestClient, container: Container, clock: Clock
) -> None:
    noor, sara = in_heroverweging(container, clock), in_heroverweging(container, clock)
    start_session(browser, TEACHER)  # in March: a session started in January has expired
    planned = submit(browser, noor, "gesprek-plannen", {"planned_at": "2026-03-16T15:00"})
    assert planned.status_code == 303, planned.text
    [talk] = views.for_pupil(container.engine, str(noor))
    assert talk.status is TalkStatus.PROPOSED
    assert talk.start == datetime(2026, 3, 16, 15, tzinfo=AMS)
    head = container.store.head()
    for when, words in (
        ("2026-03-16T15:15", "al een gesprek"),
        ("2026-03-15T23:30", "werkdag"),
        ("2026-04-10T15:00", "afgelopen zijn"),
    ):
        refused = submit(browser, sara, "gesprek-plannen", {"planned_at": when})
        assert refused.status_code == 422, refused.text
        assert words in refused.text
    assert container.store.head() == head  # nothing stored
    assert views.for_pupil(container.engine, str(sara)) == []
