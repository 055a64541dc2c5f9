"""A NUL character is refused at the door with 422 (PostgreSQL text cannot hold one): in a JSON
body, a form, a query; on the chain endpoint in the standard's own answer shape."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import Pupil, School
from tests.conftest import enrolled_pupil

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    container.accounts.add_user("ib@school.nl", "IB", Role.IB, [Scope(SCHOOL.id)])
    token = container.accounts.issue_token("ib@school.nl", "t", 7).token
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
    ) as test_client:
        yield test_client


@pytest.fixture
def pupil(container: Container, client: TestClient) -> uuid.UUID:
    pupil_id = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil_id), SCHOOL.id, "Noor", "de Vries", "8A"))
    return pupil_id


def test_a_nul_in_a_json_body_is_refused_and_nothing_is_stored(
    client: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    url = f"/api/v1/pupils/{pupil}/leaving"
    refused = client.post(url, json={"left_on": "2026-01-19", "destination": "Lyceum\u0000"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "nul_character"
    assert container.store.stream_version(f"trajectory-{pupil}") == 1
    # an escaped backslash followed by the letters u0000 is text, not a NUL
    body = b'{"left_on": "2026-01-19", "destination": "pad C:\\\\u0000"}'
    kept = client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert kept.status_code == 201, kept.text


def test_a_nul_in_a_query_or_a_form_is_refused(client: TestClient) -> None:
    overview = client.get(f"/api/v1/schools/{SCHOOL.id}/pupils?class=8A%00")
    assert (overview.status_code, overview.json()["code"]) == (422, "nul_character")
    login = client.post("/login", data={"email": "a\u0000@school.nl", "password": "x"})
    assert login.status_code == 422


def test_on_the_chain_endpoint_the_refusal_is_an_ontvangstmelding(client: TestClient) -> None:
    refused = client.post(
        "/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to=x&edu-from=y",
        content=b'{"auteur": "a\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/json"
    assert "ongeldige berichtinhoud" in refused.json()["melding"]
