"""A test provider's system: its own credentials from the CLI, exchanged for an hour's bearer
token (OAuth 2.0 client credentials); it reaches no pupil data through the school's routes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.accounts.clients import IssuedClient
from service.api.app import create_app
from service.bootstrap import Container, bootstrap
from service.cli import app as cli
from service.schools.demo import DEMO_SCHOOL, demo_pupil_ids
from service.schools.register import School
from service.settings import Settings
from tests.conftest import Clock

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
TOKEN_URL = "/api/v1/oauth/token"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def iep(container: Container, client: TestClient) -> IssuedClient:
    return container.clients.add("koppeling@iep.nl", "IEP-koppeling", [SCHOOL.id])


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_client_gets_an_hours_token_with_http_basic_or_form_fields(
    client: TestClient, container: Container, iep: IssuedClient
) -> None:
    by_basic = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers=basic(iep.client_id, iep.client_secret),
    )
    assert by_basic.status_code == 200, by_basic.text
    assert by_basic.headers["cache-control"] == "no-store"
    body = by_basic.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    who = container.accounts.authenticate_token(body["access_token"])
    assert who is not None
    assert (who.role.value, who.school_ids) == ("toetsaanbieder", frozenset({SCHOOL.id}))

    by_form = client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": iep.client_id,
            "client_secret": iep.client_secret,
        },
    )
    assert by_form.status_code == 200, by_form.text


def test_the_token_expires_and_opens_no_pupil_routes(
    client: TestClient, container: Container, iep: IssuedClient, clock: Clock
) -> None:
    token = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers=basic(iep.client_id, iep.client_secret),
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/schools/{SCHOOL.id}/pupils", headers=bearer).status_code == 404
    clock.now += timedelta(minutes=61)
    assert client.get(f"/api/v1/schools/{SCHOOL.id}/pupils", headers=bearer).status_code == 401


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request"),
        (
            {"grant_type": "client_credentials", "client_id": "cl_x", "client_secret": "y"},
            401,
            "invalid_client",
        ),
    ],
)
def test_a_refused_exchange_is_a_problem_with_the_oauth_error_code(
    client: TestClient, iep: IssuedClient, form: dict[str, str], status: int, error: str
) -> None:
    refused = client.post(TOKEN_URL, data=form)
    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["error"]) == (error, error)
    assert refused.headers["cache-control"] == "no-store"


def test_guessing_a_secret_is_paused_and_a_revoked_client_is_refused(
    client: TestClient, container: Container, iep: IssuedClient
) -> None:
    form = {"grant_type": "client_credentials"}
    for _ in range(5):
        wrong = client.post(TOKEN_URL, data=form, headers=basic(iep.client_id, "geraden"))
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Basic")
    paused = client.post(TOKEN_URL, data=form, headers=basic(iep.client_id, iep.client_secret))
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) > 0

    fresh = container.clients.new_secret("koppeling@iep.nl")
    assert (
        client.post(
            TOKEN_URL, data=form, headers=basic(fresh.client_id, fresh.client_secret)
        ).status_code
        == 200
    )
    container.clients.revoke(fresh.client_id)
    revoked = client.post(TOKEN_URL, data=form, headers=basic(fresh.client_id, fresh.client_secret))
    assert revoked.status_code == 401


def test_it_adds_a_client_from_the_cli_and_shows_the_secret_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    added = runner.invoke(
        cli,
        ["client", "add", "koppeling@route8.nl", "--name", "ROUTE 8", "--school", DEMO_SCHOOL.brin],
    )
    assert added.exit_code == 0, added.output
    lines = dict(line.split("=", 1) for line in added.stdout.splitlines() if "=" in line)
    unknown = runner.invoke(cli, ["client", "add", "x@y.nl", "--name", "X", "--school", "00XX"])
    assert unknown.exit_code == 2
    assert len(unknown.output.strip().splitlines()) == 1

    container = bootstrap(Settings(database_url=database_url))
    try:
        with TestClient(create_app(container)) as http:
            token = http.post(
                TOKEN_URL,
                data={"grant_type": "client_credentials"},
                headers=basic(lines["client_id"], lines["client_secret"]),
            ).json()["access_token"]
            pupil = next(iter(demo_pupil_ids()))
            got = http.get(
                f"/api/v1/pupils/{pupil}/trajectory", headers={"Authorization": f"Bearer {token}"}
            )
            assert got.status_code == 404  # the intake only, never a pupil's trajectory
    finally:
        container.close()
    revoked = runner.invoke(cli, ["client", "revoke", lines["client_id"]])
    assert revoked.exit_code == 0
    again = runner.invoke(cli, ["client", "revoke", lines["client_id"]])
    assert again.exit_code == 2


def test_the_school_routing_is_set_from_the_cli_and_the_demo_school_has_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    listed = runner.invoke(cli, ["school", "list"])
    assert f"{DEMO_SCHOOL.brin}" in listed.output
    assert "edu-to=0000000700099ZZ00530" in listed.output

    route = ["--edu-to", "0000000700012AA00530", "--oin", "0000000700012AA00000"]
    done = runner.invoke(cli, ["school", "routing", DEMO_SCHOOL.brin, *route])
    assert done.exit_code == 0, done.output
    assert "edu-to=0000000700012AA00530" in runner.invoke(cli, ["school", "list"]).output
    for bad in (
        ["school", "routing", "00XX", *route],
        [
            "school",
            "routing",
            DEMO_SCHOOL.brin,
            "--edu-to",
            "te-kort",
            "--oin",
            "0000000700012AA00000",
        ],
    ):
        refused = runner.invoke(cli, bad)
        assert refused.exit_code == 2
        assert len(refused.output.strip().splitlines()) == 1
