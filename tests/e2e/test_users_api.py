"""Beheer manages accounts over HTTP: add, list, disable, tokens made once and revoked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import School

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
TEACHER = {
    "email": "Juf.Anna@School.nl",
    "name": "Anna de Groot",
    "role": "leerkracht",
    "scopes": [{"school_id": SCHOOL.id, "class_name": "8A"}],
}


@pytest.fixture
def admin(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    container.accounts.add_user("it@bestuur.nl", "IT", Role.BEHEER)
    token = container.accounts.issue_token("it@bestuur.nl", "tests", days=7).token
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def test_beheer_adds_a_teacher_who_can_then_log_in(admin: TestClient, container: Container) -> None:
    added = admin.post("/api/v1/users", json=TEACHER)
    assert added.status_code == 201, added.text
    user = added.json()
    assert added.headers["location"] == f"/api/v1/users/{user['id']}"
    assert (user["email"], user["role"], user["active"]) == (
        "juf.anna@school.nl",
        "leerkracht",
        True,
    )
    assert user["scopes"] == [{"school_id": SCHOOL.id, "class_name": "8A"}]
    assert "password" not in added.text
    # beheer chooses no password for an account that sees pupils: the owner gets a link
    with_password = admin.post(
        "/api/v1/users", json=TEACHER | {"email": "b@school.nl", "password": "een-lang-wachtwoord"}
    )
    assert (with_password.status_code, with_password.json()["code"]) == (
        403,
        "password_not_allowed",
    )
    link = admin.post(f"/api/v1/users/{user['id']}/invitation")
    assert link.status_code == 202, link.text
    assert link.json()["email"] == "juf.anna@school.nl"
    (mail,) = container.settings.mail_dir.glob("uitnodiging-*.eml")
    assert "/uitnodiging/" in mail.read_text()
    assert admin.get(f"/api/v1/users/{user['id']}").json() == user

    listed = admin.get("/api/v1/users", params={"role": "leerkracht"}).json()
    assert [u["email"] for u in listed["items"]] == ["juf.anna@school.nl"]
    assert admin.get("/api/v1/users", params={"school_id": "school-9"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({}, 409, "email_taken"),  # the same address again
        ({"email": "b@school.nl", "scopes": [{"school_id": SCHOOL.id}]}, 422, "class_missing"),
        (
            {"email": "c@school.nl", "scopes": [{"school_id": "nergens", "class_name": "8A"}]},
            422,
            "school_unknown",
        ),
        ({"email": "d@school.nl", "password": "kort"}, 422, "validation_failed"),
    ],
)
def test_a_refused_account_says_why_and_adds_nobody(
    admin: TestClient, container: Container, change: dict[str, object], status: int, code: str
) -> None:
    assert admin.post("/api/v1/users", json=TEACHER).status_code == 201
    before = len(container.accounts.accounts())
    refused = admin.post("/api/v1/users", json=TEACHER | change)
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert len(container.accounts.accounts()) == before


def test_a_token_is_shown_once_and_stops_at_revocation_or_when_the_account_is_disabled(
    admin: TestClient,
) -> None:
    # an account that sees no pupils: beheer makes no token for one that does (test_security)
    script = {"email": "script@bestuur.nl", "name": "Accountscript", "role": "beheer"}
    user = admin.post("/api/v1/users", json=script).json()
    made = admin.post(f"/api/v1/users/{user['id']}/tokens", json={"name": "script", "days": 30})
    assert made.status_code == 201
    token = made.json()["token"]
    as_script = {"Authorization": f"Bearer {token}"}
    overview = "/api/v1/users"
    assert admin.get(overview, headers=as_script).status_code == 200
    listed = admin.get(f"/api/v1/users/{user['id']}/tokens")
    assert [t["name"] for t in listed.json()] == ["script"]
    assert token not in listed.text

    assert admin.post(f"/api/v1/tokens/{made.json()['id']}/revoke").status_code == 204
    assert admin.get(overview, headers=as_script).status_code == 401
    assert admin.post(f"/api/v1/tokens/{made.json()['id']}/revoke").status_code == 404

    second = admin.post(f"/api/v1/users/{user['id']}/tokens", json={"name": "twee"}).json()
    disabled = admin.post(f"/api/v1/users/{user['id']}/disable")
    assert disabled.json()["active"] is False
    assert (
        admin.get(overview, headers={"Authorization": f"Bearer {second['token']}"}).status_code
        == 401
    )
    assert admin.get("/api/v1/users/onbekend").status_code == 404
