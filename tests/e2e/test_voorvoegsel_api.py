"""The voorvoegsel given to the enrolment API is kept as its own field and reaches the
Deelnemerslijst as the standard's `voorvoegsel`, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.chain.messages import chain_pupils, chain_school, participants_list
from service.schools.register import School
from service.store.schema import pupils

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
URL = f"/api/v1/schools/{SCHOOL.id}/pupils"


def enrolment(family_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "given_name": "Noor",
        "family_name": family_name,
        "class_name": "8A",
        "groep": 8,
        "school_year": "2025-2026",
        "enrolled_on": "2025-08-25",
        **extra,
    }


@pytest.fixture
def directie(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    container.accounts.add_user("dir@school.nl", "Directie", Role.DIRECTIE, [Scope(SCHOOL.id)])
    token = container.accounts.issue_token("dir@school.nl", "t", 7).token
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def enrol(client: TestClient, body: dict[str, Any]) -> str:
    response = client.post(URL, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["pupil_id"])


def test_the_voorvoegsel_is_kept_apart_and_sent_as_the_deelnemerslijsts_own_field(
    directie: TestClient, container: Container
) -> None:
    hof = enrol(directie, enrolment("van het Hof", voorvoegsel="van het"))
    bogaard = enrol(directie, enrolment("Bogaard", voorvoegsel="uit  den"))
    dijk = enrol(directie, enrolment("Van Dijk", voorvoegsel=""))
    berg = enrol(directie, enrolment("van der Berg"))
    with container.engine.begin() as conn:
        conn.execute(update(pupils).values(birth_date=date(2013, 5, 12)))
        rows = conn.execute(select(pupils.c.id, pupils.c.family_name, pupils.c.surname_prefix))
        stored = {r.id: (r.family_name, r.surname_prefix) for r in rows}
    assert stored == {
        hof: ("van het Hof", "van het"),
        bogaard: ("uit den Bogaard", "uit den"),  # the register keeps the surname as written
        dijk: ("Van Dijk", ""),
        berg: ("van der Berg", None),  # not given: read from the surname when sent
    }

    school = chain_school(container.engine, SCHOOL.id)
    assert school is not None
    message, left_out = participants_list(
        school,
        chain_pupils(container.engine, SCHOOL.id, "2025-2026"),
        "2025-2026",
        datetime(2026, 1, 12, tzinfo=UTC),
    )
    assert message is not None  # checked against the standard's schema when built
    assert left_out == []
    sent = {
        p["deelnemerref"][0]["onderwijsdeelnemerID"]: (p.get("voorvoegsel"), p["achternaam"])
        for p in message["deelnemers"]
    }
    assert sent == {
        hof: ("van het", "Hof"),
        bogaard: ("uit den", "Bogaard"),
        dijk: (None, "Van Dijk"),
        berg: ("van der", "Berg"),
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (enrolment("Berg", voorvoegsel="van der van"), "voorvoegsel"),
        (enrolment("B" * 96, voorvoegsel="van der"), "body"),
    ],
)
def test_a_voorvoegsel_that_does_not_fit_is_a_422_and_stores_nothing(
    directie: TestClient, container: Container, body: dict[str, Any], field: str
) -> None:
    response = directie.post(URL, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    with container.engine.connect() as conn:
        assert conn.execute(select(pupils.c.id)).all() == []
