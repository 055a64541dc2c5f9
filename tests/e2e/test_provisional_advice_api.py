"""The thin slice over HTTP: record a voorlopig advies, read it back; bad input changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Principal, Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import Pupil, School
from service.store.migrate import head_revision
from tests.conftest import enrolled_pupil

NOW = datetime(2026, 1, 20, 10, 0, tzinfo=UTC)  # the `clock` fixture's time


SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school


@pytest.fixture
def teacher(container: Container) -> Principal:
    container.register.add_school(SCHOOL)
    return container.accounts.add_user(
        "juf@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]
    )


@pytest.fixture
def client(container: Container, teacher: Principal) -> Iterator[TestClient]:
    token = container.accounts.issue_token(teacher.email, "tests", days=30).token
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
    ) as test_client:
        yield test_client


@pytest.fixture
def pupil(container: Container, teacher: Principal) -> uuid.UUID:
    pupil_id = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil_id), SCHOOL.id, "Noor", "de Vries", "8A"))
    return pupil_id


def url(pupil_id: uuid.UUID, what: str) -> str:
    return f"/api/v1/pupils/{pupil_id}/{what}"


def test_a_voorlopig_advies_is_recorded_and_read_back(
    client: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    response = client.post(
        url(pupil, "provisional-advice"),
        json={"advice": "havo/vwo", "given_on": "2026-01-15"},
        headers={"X-Request-ID": "req-123"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["stream_version"] == 2
    assert response.json()["event_types"] == ["provisional_advice_given"]
    assert response.headers["ETag"] == '"2"'
    assert response.headers["X-Request-ID"] == "req-123"

    trajectory = client.get(url(pupil, "trajectory"))
    assert trajectory.status_code == 200
    body = trajectory.json()
    assert body["status"] == "awaiting_test_result"
    assert body["provisional_advice"] == {
        "advice": {"code": "HAVO_TM_VWO", "label": "havo/vwo"},
        "given_on": "2026-01-15",
        "timeliness": "on_time",
        "basis": None,
    }
    assert body["stream_version"] == 2
    assert trajectory.headers["ETag"] == '"2"'

    [_, stored] = container.store.read_stream(f"trajectory-{pupil}")
    assert stored.metadata["request_id"] == "req-123"
    assert stored.metadata["role"] == "leerkracht"
    assert stored.metadata["actor"] == container.accounts.list_users()[0].user_id
    assert stored.recorded_at == NOW


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"advice": "havo/mbo", "given_on": "2026-01-15"}, "advice"),
        ({"advice": "vmbo-bb/havo", "given_on": "2026-01-15"}, "advice"),
        ({"advice": "havo", "given_on": "15-01-2026"}, "given_on"),
        ({"advice": "havo"}, "given_on"),
        ({"advice": "havo", "given_on": "2026-01-15", "extra": 1}, "extra"),
        ({"advice": 5, "given_on": "2026-01-15"}, "advice"),
    ],
)
def test_invalid_input_is_a_422_problem_naming_the_field_and_appends_nothing(
    client: TestClient, container: Container, pupil: uuid.UUID, body: dict[str, object], field: str
) -> None:
    before = container.store.read_all()
    response = client.post(url(pupil, "provisional-advice"), json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert field in [e["field"] for e in problem["errors"]]
    assert all(e["message"] for e in problem["errors"])
    assert container.store.read_all() == before


def test_a_rule_that_says_no_is_a_422_problem_with_its_code(
    client: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    before = container.store.read_all()
    response = client.post(
        url(pupil, "provisional-advice"), json={"advice": "havo", "given_on": "2026-02-20"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "date_in_future"
    assert response.json()["errors"][0]["field"] == "given_on"
    assert container.store.read_all() == before


def test_a_stale_if_match_is_a_409_with_the_current_version_and_appends_nothing(
    client: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    before = container.store.read_all()
    response = client.post(
        url(pupil, "provisional-advice"),
        json={"advice": "vwo", "given_on": "2026-01-15"},
        headers={"If-Match": '"0"'},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert container.store.read_all() == before


def test_a_current_if_match_is_accepted(client: TestClient, pupil: uuid.UUID) -> None:
    response = client.post(
        url(pupil, "provisional-advice"),
        json={"advice": "vwo", "given_on": "2026-01-15"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 201


def test_a_malformed_if_match_is_a_400_problem(client: TestClient, pupil: uuid.UUID) -> None:
    response = client.post(
        url(pupil, "provisional-advice"),
        json={"advice": "vwo", "given_on": "2026-01-15"},
        headers={"If-Match": "version one"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "if_match_invalid"


def test_a_second_voorlopig_advies_is_refused(client: TestClient, pupil: uuid.UUID) -> None:
    first = {"advice": "havo", "given_on": "2026-01-15"}
    assert client.post(url(pupil, "provisional-advice"), json=first).status_code == 201
    second = client.post(url(pupil, "provisional-advice"), json={**first, "advice": "vwo"})
    assert second.status_code == 422
    assert second.json()["code"] == "not_allowed_in_state"
    assert client.get(url(pupil, "trajectory")).json()["provisional_advice"]["advice"]["code"] == (
        "HAVO"
    )


def test_an_unknown_pupil_is_a_404_problem(client: TestClient, container: Container) -> None:
    stranger = uuid.uuid4()
    assert client.get(url(stranger, "trajectory")).status_code == 404
    response = client.post(
        url(stranger, "provisional-advice"), json={"advice": "havo", "given_on": "2026-01-15"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "pupil_not_found"
    assert container.store.read_all() == []


def test_a_registered_pupil_without_a_trajectory_is_a_404_problem(
    client: TestClient, container: Container, teacher: Principal
) -> None:
    newcomer = uuid.uuid4()
    container.register.add_pupil(Pupil(str(newcomer), SCHOOL.id, "Mila", "Bos", "8A"))
    response = client.get(url(newcomer, "trajectory"))
    assert response.status_code == 404
    assert response.json()["code"] == "pupil_not_enrolled"


def test_a_malformed_pupil_id_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/api/v1/pupils/not-a-uuid/trajectory")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "pupil_id"


def test_health_reports_the_database_and_its_schema_revision(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["schema_revision"] == head_revision()


def test_the_openapi_document_describes_the_slice(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    post = spec["paths"]["/api/v1/pupils/{pupil_id}/provisional-advice"]["post"]
    assert {"201", "404", "409", "422"} <= set(post["responses"])
    assert "Problem" in spec["components"]["schemas"]


def test_a_server_error_is_a_problem_without_internals_logged_with_its_request_id(
    client: TestClient,
    container: Container,
    pupil: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(_pupil_id: uuid.UUID) -> None:
        raise RuntimeError("SELECT secret FROM somewhere failed")

    monkeypatch.setattr(container.trajectories, "load", broken)
    with caplog.at_level("ERROR"):
        response = client.get(url(pupil, "trajectory"), headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["X-Request-ID"] == "req-500"
    assert response.json()["request_id"] == "req-500"
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert any("req-500" in record.getMessage() for record in caplog.records)


def test_in_production_the_start_page_shows_no_pupil_data(
    container: Container, pupil: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(container)) as anonymous:
        pages = [anonymous.get("/").text]  # development: the login, no demo list
        monkeypatch.setattr(container.settings, "environment", "production")
        pages.append(anonymous.get("/").text)
    for page in pages:
        assert "Noor de Vries" not in page
        assert str(pupil) not in page
        assert "alleen zichtbaar voor wie is ingelogd" in page
