"""What the usability-review tests share (test_advice_pages_review*.py): one school with a
teacher of 8A, intern begeleider and directie, a browser on the real app, and pupils set up
through the real trajectory commands. Copied from the web tests' helpers for now (they move to
tests/e2e/web.py)."""

from __future__ import annotations

import html as html_text
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import Pupil, School
from service.store.streams import trajectory_stream
from tests.conftest import empty_database, enrolled_pupil
from tests.e2e.web import start_session
from workflows.commands import (
    Command,
    GiveProvisionalAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty
from workflows.scale import SchoolAdvice, TestAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
TEACHER, IB, DIRECTIE = "juf@school.nl", "ib@school.nl", "directie@school.nl"
JAN_20, MAR_10 = datetime(2026, 1, 20, 10, tzinfo=UTC), datetime(2026, 3, 10, 12, tzinfo=UTC)
SETUP = CommandContext(actor=Actor("test-setup", "beheer"))

PROVISIONAL = GiveProvisionalAdvice(advice=SchoolAdvice.VMBO_GLTL, given_on=date(2026, 1, 15))
HIGHER = ReceiveTestResult(
    provider="IEP",
    delivery_id="d-1",
    test_advice=TestAdvice.HAVO_VWO,
    received_on=date(2026, 3, 10),
)
HELD = RecordConversationHeld(held_on=date(2026, 3, 10), attendees=(ConversationParty.PARENTS,))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite unless a test asks for both databases (`BOTH`, indirect parametrisation)."""
    return empty_database(getattr(request, "param", "sqlite"), request, tmp_path)


BOTH = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def school(container: Container) -> Container:
    container.register.add_school(SCHOOL)
    people = [
        (TEACHER, "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]),
        (IB, "Ina de IB", Role.IB, [Scope(SCHOOL.id)]),
        (DIRECTIE, "Dirk Directie", Role.DIRECTIE, [Scope(SCHOOL.id)]),
    ]
    for email, name, role, scopes in people:
        container.accounts.add_user(email, name, role, scopes, None)
    return container


@pytest.fixture
def browser(school: Container) -> Iterator[TestClient]:
    with TestClient(
        create_app(school), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def sign_in(client: TestClient, email: str) -> TestClient:
    """A session as the login form starts it, without the form (hashing costs time)."""
    start_session(client, email)
    return client


def pupil_in(container: Container, name: str = "Noor", class_name: str = "8A") -> uuid.UUID:
    pupil_id = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil_id), SCHOOL.id, name, "de Vries", class_name))
    return pupil_id


def given(container: Container, pupil_id: uuid.UUID, *commands: Command) -> None:
    for command in commands:
        container.trajectories.execute(pupil_id, command, SETUP)


def events(container: Container, pupil_id: uuid.UUID) -> list[str]:
    stored = container.trajectories.store.read_stream(trajectory_stream(pupil_id))
    return [e.event_type for e in stored]


def text_of(html: str) -> str:
    """The page's words without tags, whitespace collapsed."""
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())
