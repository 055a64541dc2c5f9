"""Who may read and change a pupil's trajectory over HTTP, role by role, scope by scope.

A caller without a valid token gets 401; one who may not see the pupil gets 404 (existence
does not leak); one who sees it but may not change it gets 403; nothing is stored on a refusal;
every read that is answered is in the access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.schools.register import Pupil, School
from tests.conftest import Clock, enrolled_pupil

OWN = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
ADVICE = {"advice": "havo", "given_on": "2026-01-15"}

# role, scope (school, class), GET status, POST status
MATRIX = [
    ("leerkracht", OWN.id, "8A", 200, 201),
    ("leerkracht", OWN.id, "8B", 404, 404),  # another class at the same school
    ("leerkracht", OTHER.id, "8A", 404, 404),
    ("ib", OWN.id, "", 200, 201),
    ("ib", OTHER.id, "", 404, 404),
    ("directie", OWN.id, "", 200, 201),
    ("directie", OTHER.id, "", 404, 404),
    ("bestuur", OWN.id, "", 200, 403),
    ("bestuur", OTHER.id, "", 404, 404),
    ("beheer", None, "", 404, 404),
    ("toetsaanbieder", OWN.id, "", 404, 404),
]


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    container.register.add_school(OWN)
    container.register.add_school(OTHER)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def pupil(container: Container, app_client: TestClient) -> uuid.UUID:
    pupil_id = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil_id), OWN.id, "Noor", "de Vries", "8A"))
    return pupil_id


def token_for(container: Container, role: str, school: str | None, class_name: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@school.nl"
    scopes = [Scope(school, class_name)] if school else []
    container.accounts.add_user(email, role, Role(role), scopes)
    return container.accounts.issue_token(email, "test", days=7).token


@pytest.mark.parametrize(("role", "school", "class_name", "read", "write"), MATRIX)
def test_each_role_reads_and_writes_only_where_it_may(
    app_client: TestClient,
    container: Container,
    pupil: uuid.UUID,
    role: str,
    school: str | None,
    class_name: str,
    read: int,
    write: int,
) -> None:
    headers = {"Authorization": f"Bearer {token_for(container, role, school, class_name)}"}
    base = f"/api/v1/pupils/{pupil}"
    got = app_client.get(f"{base}/trajectory", headers=headers)
    assert got.status_code == read, got.text
    before = container.store.read_all()
    posted = app_client.post(f"{base}/provisional-advice", json=ADVICE, headers=headers)
    assert posted.status_code == write, posted.text
    if write != 201:
        assert posted.headers["content-type"] == "application/problem+json"
        assert container.store.read_all() == before
    reads = reads_of(container.engine, str(pupil))
    assert [(r[2], r[3]) for r in reads] == ([(role, "trajectory")] if read == 200 else [])


def test_no_token_an_unknown_one_or_an_expired_one_is_a_401_with_a_challenge(
    app_client: TestClient, container: Container, pupil: uuid.UUID, clock: Clock
) -> None:
    url = f"/api/v1/pupils/{pupil}/trajectory"
    missing = app_client.get(url)
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthenticated")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = app_client.get(url, headers={"Authorization": "Bearer adv_nonsense"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "token_invalid")
    token = token_for(container, "directie", OWN.id, "")
    assert app_client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock.now += timedelta(days=8)
    expired = app_client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    posted = app_client.post(
        f"/api/v1/pupils/{pupil}/provisional-advice",
        json=ADVICE,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 401
    assert len(container.store.read_all()) == 1  # only the enrolment


def test_the_class_overview_shows_each_role_only_its_own_pupils(
    app_client: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    other_class = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(other_class), OWN.id, "Bram", "de Boer", "8B"))
    url = f"/api/v1/schools/{OWN.id}/pupils"

    def names(role: str, school: str | None, class_name: str, query: str = "") -> object:
        token = token_for(container, role, school, class_name)
        got = app_client.get(url + query, headers={"Authorization": f"Bearer {token}"})
        if got.status_code != 200:
            return got.status_code
        return [item["name"] for item in got.json()["items"]]

    assert names("directie", OWN.id, "") == ["Bram de Boer", "Noor de Vries"]  # B before V
    assert names("leerkracht", OWN.id, "8A") == ["Noor de Vries"]
    assert names("leerkracht", OWN.id, "8A", "?class=8B") == 404
    assert names("ib", OWN.id, "", "?class=8B") == ["Bram de Boer"]
    assert names("bestuur", OWN.id, "", "?status=awaiting_provisional_advice&limit=1") == [
        "Bram de Boer"
    ]
    assert names("directie", OTHER.id, "") == 404
    assert names("beheer", None, "") == 404
    assert names("ib", OWN.id, "", "?limit=0") == 422
    leerkracht_reads = [r for r in reads_of(container.engine, str(pupil)) if r[2] == "leerkracht"]
    assert [r[3] for r in leerkracht_reads] == ["klasoverzicht"]
    assert [r[3] for r in reads_of(container.engine, str(other_class))] == [
        "klasoverzicht",
        "klasoverzicht",
        "klasoverzicht",
    ]


def test_the_class_overview_pages_and_counts(
    app_client: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    for given in ("Anna", "Bas", "Cas"):
        extra = enrolled_pupil(container)
        container.register.add_pupil(Pupil(str(extra), OWN.id, given, "Jansen", "8A"))
    token = token_for(container, "directie", OWN.id, "")
    got = app_client.get(
        f"/api/v1/schools/{OWN.id}/pupils?limit=2&offset=1",
        headers={"Authorization": f"Bearer {token}"},
    )
    body = got.json()
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 1)
    assert [item["name"] for item in body["items"]] == ["Bas Jansen", "Cas Jansen"]
    assert body["items"][0]["status"] == "awaiting_provisional_advice"
    assert body["items"][0]["class_name"] == "8A"
