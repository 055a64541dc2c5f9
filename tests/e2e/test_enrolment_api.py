"""Enrolling pupils over HTTP: one, a class at once, retried safely; refusals store nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import School
from service.store.schema import events, pupils

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
NOOR = {
    "given_name": "Noor",
    "family_name": "de Vries",
    "class_name": "8A",
    "groep": 8,
    "school_year": "2025-2026",
    "enrolled_on": "2025-08-25",
}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    container.register.add_school(OTHER)
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


def auth(container: Container, role: Role, school: School, class_name: str = "") -> dict[str, str]:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@school.nl"
    container.accounts.add_user(email, role.value, role, [Scope(school.id, class_name)])
    return {"Authorization": f"Bearer {container.accounts.issue_token(email, 't', 7).token}"}


def stored(container: Container) -> tuple[int, int]:
    with container.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
            conn.execute(select(func.count()).select_from(pupils)).scalar_one(),
        )


def test_directie_enrols_a_pupil_who_then_appears_in_the_class_overview(
    client: TestClient, container: Container
) -> None:
    headers = auth(container, Role.DIRECTIE, SCHOOL)
    response = client.post(f"/api/v1/schools/{SCHOOL.id}/pupils", json=NOOR, headers=headers)
    assert response.status_code == 201, response.text
    pupil_id = response.json()["pupil_id"]
    assert response.headers["Location"] == f"/api/v1/pupils/{pupil_id}/trajectory"
    trajectory = client.get(response.headers["Location"], headers=headers).json()
    assert (trajectory["status"], trajectory["groep"]) == ("awaiting_provisional_advice", 8)
    overview = client.get(f"/api/v1/schools/{SCHOOL.id}/pupils", headers=headers).json()
    assert [(i["name"], i["class_name"]) for i in overview["items"]] == [("Noor de Vries", "8A")]


def test_a_retried_enrolment_with_its_key_returns_the_first_answer_and_stores_nothing_new(
    client: TestClient, container: Container
) -> None:
    headers = auth(container, Role.IB, SCHOOL) | {"Idempotency-Key": "enrol-noor"}
    first = client.post(f"/api/v1/schools/{SCHOOL.id}/pupils", json=NOOR, headers=headers)
    before = stored(container)
    again = client.post(f"/api/v1/schools/{SCHOOL.id}/pupils", json=NOOR, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert stored(container) == before == (1, 1)


@pytest.mark.parametrize(
    ("role", "school", "status"),
    [
        (Role.LEERKRACHT, SCHOOL, 403),
        (Role.BESTUUR, SCHOOL, 403),
        (Role.DIRECTIE, OTHER, 404),
        (Role.TOETSAANBIEDER, SCHOOL, 404),
    ],
)
def test_who_may_not_enrol_gets_a_problem_and_nothing_is_stored(
    client: TestClient, container: Container, role: Role, school: School, status: int
) -> None:
    headers = auth(container, role, school, "8A" if role is Role.LEERKRACHT else "")
    response = client.post(f"/api/v1/schools/{SCHOOL.id}/pupils", json=NOOR, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert stored(container) == (0, 0)


def test_a_bulk_enrolment_with_one_bad_row_names_it_and_stores_nothing(
    client: TestClient, container: Container
) -> None:
    headers = auth(container, Role.DIRECTIE, SCHOOL)
    rows = [
        NOOR,
        NOOR | {"given_name": "Daan", "enrolled_on": "2026-09-01"},  # after the school year
        NOOR | {"given_name": "Sara", "family_name": "El Amrani"},
    ]
    url = f"/api/v1/schools/{SCHOOL.id}/pupils/bulk"
    refused = client.post(url, json={"pupils": rows}, headers=headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["pupils.1.enrolled_on"]
    assert stored(container) == (0, 0)

    rows[1] = NOOR | {"given_name": "Daan", "family_name": "Jansen"}
    accepted = client.post(url, json={"pupils": rows}, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert len({e["pupil_id"] for e in accepted.json()["enrolled"]}) == 3
    assert stored(container) == (3, 3)


def test_an_invalid_enrolment_body_is_a_422_naming_the_field(
    client: TestClient, container: Container
) -> None:
    headers = auth(container, Role.DIRECTIE, SCHOOL)
    response = client.post(
        f"/api/v1/schools/{SCHOOL.id}/pupils", json=NOOR | {"groep": 9}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "groep"
    assert stored(container) == (0, 0)


def test_an_enrolment_the_rules_refuse_leaves_no_name_in_the_register(
    client: TestClient, container: Container
) -> None:
    headers = auth(container, Role.DIRECTIE, SCHOOL)
    response = client.post(
        f"/api/v1/schools/{SCHOOL.id}/pupils",
        json=NOOR | {"enrolled_on": "2024-08-26"},  # before the school year
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "enrolled_on"
    assert stored(container) == (0, 0)
