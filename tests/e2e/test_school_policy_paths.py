"""Two schools, two policies, every path: De Bron dropped the heroverweging conversation in its
settings, De Duif kept the legal minimum (the conversation required). A toetsadvies above the
voorlopig advies reaches pupils of both through the API, a CSV import and the chain intake (the
worker); the teacher raises the advice without a conversation and gives the definitief advies:
at De Bron both are accepted, at De Duif the decision is refused (422, nothing stored) until the
parents declined the conversation — decided each time with the pupil's own school's policy, on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container
from service.cli import app as cli_app
from service.imports.running import pupil_id_for
from service.intake.processing import process_pending
from service.schools.register import Pupil, School
from service.store.streams import trajectory_stream
from tests.conftest import Clock
from tests.e2e.test_result_intake import delivery
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil, GiveProvisionalAdvice, ReceiveTestResult
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice

BRON = School(id="school-bron", brin="04DB", name="De Bron")
DUIF = School(id="school-duif", brin="01DD", name="De Duif")
OIN = "0000000700011BB00000"
EDU_TO = {BRON.id: "0000000700011BB00531", DUIF.id: "0000000700011BB00532"}
CTX = CommandContext(actor=Actor("juf", "leerkracht"))


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def schools(container: Container, clock: Clock) -> Iterator[dict[str, TestClient]]:
    """Both schools, De Bron without the conversation; a teacher's API client per school."""
    for school in (BRON, DUIF):
        container.register.add_school(school)
    changed = container.policies.change(
        BRON.id,
        SchoolYear(2025),
        SchoolPolicy(conversation_required=False),
        user_id="u-dir",
        user_name="Dirk Directeur",
        role="directie",
        expected_version=0,
    )
    assert changed is not None
    clients = {}
    app = create_app(container)
    for school in (BRON, DUIF):
        email = f"juf@{school.brin.lower()}.nl"
        container.accounts.add_user(email, "Juf", Role.LEERKRACHT, [Scope(school.id, "8A")])
        token = container.accounts.issue_token(email, "tests", days=365).token
        client = TestClient(
            app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
        )
        clients[school.id] = client.__enter__()
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def advised_pupil(container: Container, clock: Clock, school: School, pupil: uuid.UUID) -> None:
    """Enrolled in groep 8 (if not yet) with a voorlopig advies havo, given on 15 January."""
    clock.now = at(date(2026, 1, 15))
    if container.register.pupil(str(pupil)) is None:
        container.register.add_pupil(Pupil(str(pupil), school.id, "Noor", "de Vries", "8A"))
    commands: list[Any] = []
    if not container.trajectories.history(pupil):
        commands.append(
            EnrolPupil(
                school_id=school.id,
                school_year="2025-2026",
                groep=8,
                enrolled_on=date(2025, 8, 25),
            )
        )
    commands.append(GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)))
    container.trajectories.execute_all(pupil, commands, CTX)


def raise_advice(client: TestClient, clock: Clock, pupil: uuid.UUID) -> Any:
    """Raise to havo/vwo (without a conversation, unless one was recorded before)."""
    clock.now = at(date(2026, 3, 17))
    return client.post(
        f"/api/v1/pupils/{pupil}/reconsideration/decision",
        json={"outcome": "raise", "advice": "havo/vwo", "decided_on": "2026-03-17"},
    )


def give_final_advice(client: TestClient, pupil: uuid.UUID) -> Any:
    return client.post(f"/api/v1/pupils/{pupil}/final-advice", json={"given_on": "2026-03-17"})


def assert_each_school_followed_its_own_policy(
    container: Container, clock: Clock, clients: dict[str, TestClient], pupils: dict[str, uuid.UUID]
) -> None:
    for school in (BRON, DUIF):
        assert container.trajectories.load(pupils[school.id]).status.value == (
            "reconsideration_required"
        )
    bron, duif = clients[BRON.id], clients[DUIF.id]
    assert raise_advice(bron, clock, pupils[BRON.id]).status_code == 201
    final = give_final_advice(bron, pupils[BRON.id])
    assert final.status_code == 201, final.text
    assert final.json()["event_types"] == ["final_advice_given"]

    stream = trajectory_stream(pupils[DUIF.id])
    version = container.store.stream_version(stream)
    refused = raise_advice(duif, clock, pupils[DUIF.id])
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "conversation_not_held"
    assert "gesprek" in refused.json()["detail"]
    assert container.store.stream_version(stream) == version
    assert container.trajectories.load(pupils[DUIF.id]).decision is None
    declined = duif.post(
        f"/api/v1/pupils/{pupils[DUIF.id]}/reconsideration/conversation/outcome",
        json={"outcome": "declined", "declined_on": "2026-03-17"},
    )
    assert declined.status_code == 201, declined.text
    assert raise_advice(duif, clock, pupils[DUIF.id]).status_code == 201
    assert give_final_advice(duif, pupils[DUIF.id]).status_code == 201
    assert container.trajectories.load(pupils[DUIF.id]).status.value == "final_advice_given"


def test_through_the_api(
    container: Container, clock: Clock, schools: dict[str, TestClient]
) -> None:
    pupils = {school.id: uuid.uuid4() for school in (BRON, DUIF)}
    for school in (BRON, DUIF):
        advised_pupil(container, clock, school, pupils[school.id])
        clock.now = at(date(2026, 3, 10))
        container.trajectories.execute(
            pupils[school.id],
            ReceiveTestResult(
                provider="IEP",
                delivery_id=f"api-{school.id}",
                test_advice=TestAdvice.HAVO_VWO,
                received_on=date(2026, 3, 10),
            ),
            CommandContext(actor=Actor("iep", "toetsaanbieder")),
        )
    assert_each_school_followed_its_own_policy(container, clock, schools, pupils)


def test_through_the_csv_import(
    container: Container,
    clock: Clock,
    schools: dict[str, TestClient],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.setenv("ADVIESTRAJECT_KEY_FILE", str(tmp_path / "keys.kek"))
    pupils = {school.id: pupil_id_for(school.id, "1001") for school in (BRON, DUIF)}
    for school in (BRON, DUIF):
        advised_pupil(container, clock, school, pupils[school.id])
    clock.now = at(date(2026, 3, 12))
    for school in (BRON, DUIF):
        path = tmp_path / f"{school.brin}.csv"
        path.write_text("leerlingnummer,toetsadvies,datum\n1001,havo/vwo,11-03-2026\n")
        ib = f"ib@{school.brin.lower()}.nl"  # the account the import is credited to
        container.accounts.add_user(ib, "Ilse IB", Role.IB, [Scope(school.id)])
        args = ["import", "results", str(path), "--school", school.brin, "--test", "ROUTE 8"]
        result = CliRunner().invoke(cli_app, [*args, "--as", ib])
        assert result.exit_code == 0, result.stderr
        assert "1 heroverweging nodig" in result.stdout
    assert_each_school_followed_its_own_policy(container, clock, schools, pupils)


def test_through_the_chain_intake_and_the_worker(
    container: Container, clock: Clock, schools: dict[str, TestClient]
) -> None:
    pupils = {school.id: uuid.uuid4() for school in (BRON, DUIF)}
    for school in (BRON, DUIF):
        advised_pupil(container, clock, school, pupils[school.id])
        container.register.set_routing(school.id, EDU_TO[school.id], OIN)
    client = container.clients.add("koppeling@iep.nl", "IEP-koppeling", [BRON.id, DUIF.id])
    clock.now = at(date(2026, 3, 10))
    token = container.clients.exchange(client.client_id, client.client_secret)
    assert token is not None
    with TestClient(
        create_app(container), headers={"Authorization": f"Bearer {token.token}"}
    ) as provider:
        for school in (BRON, DUIF):
            url = (
                "/doorstroomtoetsketen/v1.1/leerlingresultaat"
                f"?edu-to={EDU_TO[school.id]}&edu-from={OIN}"
            )
            message = delivery(pupils[school.id], "havo/vwo", f"rs-{school.id}")
            assert provider.post(url, json=message).status_code == 202
    assert process_pending(container) == 2  # one batch, pupils of both schools
    assert_each_school_followed_its_own_policy(container, clock, schools, pupils)
