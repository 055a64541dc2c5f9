"""Security through the ASGI app, on both databases: the login throttle under a parallel burst,
the same work for unknown accounts, apart keys for the token endpoint, tokens beheer may not
make, bounded request bodies, idempotency keys scoped to the caller, correlation ids checked
before they reach the log, and security headers on every answer."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import argon2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import Message

from service.accounts.clients import IssuedClient
from service.accounts.roles import Role, Scope
from service.advice.trajectories import trajectory_stream
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import Pupil, School
from service.store.schema import api_tokens, events
from service.web.login import LOGIN_CSRF_COOKIE
from tests.conftest import enrolled_pupil
from tests.e2e.web import csrf

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school
OTHER = School(id="school-2", brin="02BB", name="De Andere School")
EMAIL, PASSWORD = "juf@school.nl", "een-lang-wachtwoord"
WRONG = "fout-fout-fout"
NOOR = {
    "given_name": "Noor",
    "family_name": "de Vries",
    "class_name": "8A",
    "groep": 8,
    "school_year": "2025-2026",
    "enrolled_on": "2025-08-25",
}
ADVICE = {"advice": "havo", "given_on": "2026-01-15"}


class Verifies:
    """Counts every argon2 verify in this process, with the password it was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.passwords: list[str] = []
        self._lock = threading.Lock()
        original = argon2.PasswordHasher.verify

        def counted(hasher: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
            with self._lock:
                self.passwords.append(str(password))
            return original(hasher, hash, password)

        monkeypatch.setattr(argon2.PasswordHasher, "verify", counted)


@pytest.fixture
def verifies(monkeypatch: pytest.MonkeyPatch) -> Verifies:
    return Verifies(monkeypatch)


@pytest.fixture
def app(container: Container) -> FastAPI:
    container.register.add_school(SCHOOL)
    container.register.add_school(OTHER)
    container.accounts.add_user(
        EMAIL, "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")], PASSWORD
    )
    return create_app(container)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def bearer(container: Container, role: Role, school: School | None, class_name: str = "") -> str:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@school.nl"
    scopes = [Scope(school.id, class_name)] if school else []
    container.accounts.add_user(email, role.value, role, scopes)
    return container.accounts.issue_token(email, "t", 7).token


def login_form(app: FastAPI) -> dict[str, str]:
    """The login form's CSRF token, as headers and form fields a browser would send."""
    with TestClient(app) as browser:
        html = browser.get("/login").text
    return {"token": csrf(html)}


def post_login(app: FastAPI, token: str, email: str, password: str) -> int:
    # a client of its own per thread: each request runs on its own event loop, in parallel
    response = TestClient(app, follow_redirects=False).post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={token}"},
    )
    return response.status_code


def burst(app: FastAPI, passwords: list[str], email: str = EMAIL) -> list[int]:
    token = login_form(app)["token"]
    start = threading.Barrier(len(passwords))
    statuses: dict[int, int] = {}

    def attempt(index: int, password: str) -> None:
        start.wait()
        statuses[index] = post_login(app, token, email, password)

    threads = [threading.Thread(target=attempt, args=item) for item in enumerate(passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [statuses[index] for index in range(len(passwords))]


def test_a_parallel_login_burst_gets_exactly_five_password_checks(
    app: FastAPI, verifies: Verifies
) -> None:
    statuses = burst(app, [WRONG] * 20)
    assert len(verifies.passwords) == 5
    assert sorted(statuses) == [401] * 5 + [429] * 15
    # the right password after the burst is not even checked
    assert post_login(app, login_form(app)["token"], EMAIL, PASSWORD) == 429
    assert len(verifies.passwords) == 5


def test_the_right_password_inside_a_burst_gets_in_only_if_it_was_among_the_checked(
    app: FastAPI, verifies: Verifies
) -> None:
    passwords = [WRONG] * 19
    passwords.insert(7, PASSWORD)
    statuses = burst(app, passwords)
    checked_right = PASSWORD in verifies.passwords
    # a success starts the account's count afresh: the right one and the wrong ones admitted
    # beside it (at most 5 in all) are forgotten, so at most 5 more wrong ones are checked after
    assert 5 <= len(verifies.passwords) <= (10 if checked_right else 5)
    assert statuses[7] == (303 if checked_right else 429)
    assert statuses.count(303) == (1 if checked_right else 0)
    assert statuses.count(401) == len(verifies.passwords) - statuses.count(303)


@pytest.mark.parametrize("who", ["unknown", "disabled", "no_password", "known"])
def test_every_login_costs_one_password_verify_whether_the_account_exists_or_not(
    app: FastAPI, container: Container, verifies: Verifies, who: str
) -> None:
    container.accounts.add_user("uit@school.nl", "Uit", Role.IB, [Scope(SCHOOL.id)], PASSWORD)
    container.accounts.disable("uit@school.nl")
    container.accounts.add_user("api@school.nl", "Script", Role.IB, [Scope(SCHOOL.id)])
    email = {
        "unknown": "niemand@school.nl",
        "disabled": "uit@school.nl",
        "no_password": "api@school.nl",
        "known": EMAIL,
    }[who]
    assert post_login(app, login_form(app)["token"], email, WRONG) == 401
    assert verifies.passwords == [WRONG]


def test_failed_token_exchanges_naming_a_teacher_do_not_pause_her_website_login(
    app: FastAPI, client: TestClient
) -> None:
    form = {"grant_type": "client_credentials", "client_id": EMAIL, "client_secret": "geraden"}
    answers = [client.post("/api/v1/oauth/token", data=form).status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]
    assert post_login(app, login_form(app)["token"], EMAIL, PASSWORD) == 303


@pytest.mark.parametrize("role", [Role.LEERKRACHT, Role.IB, Role.DIRECTIE, Role.BESTUUR])
def test_beheer_cannot_make_a_token_for_an_account_that_sees_pupils(
    client: TestClient, container: Container, role: Role
) -> None:
    admin = {"Authorization": f"Bearer {bearer(container, Role.BEHEER, None)}"}
    scopes = [Scope(SCHOOL.id, "8B" if role is Role.LEERKRACHT else "")]
    target = container.accounts.add_user(f"{role.value}@school.nl", "X", role, scopes)
    refused = client.post(
        f"/api/v1/users/{target.user_id}/tokens", json={"name": "ik-lees-mee"}, headers=admin
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "token_not_allowed"
    assert role.label in refused.json()["detail"]
    assert container.accounts.tokens_of(target.email) == []


def test_a_token_records_who_made_it(
    client: TestClient, container: Container, iep: IssuedClient
) -> None:
    made_by = container.accounts.add_user("it@bestuur.nl", "IT", Role.BEHEER)
    admin_token = container.accounts.issue_token("it@bestuur.nl", "op de server", 7)
    script = container.accounts.add_user("script@bestuur.nl", "Script", Role.BEHEER)
    made = client.post(
        f"/api/v1/users/{script.user_id}/tokens",
        json={"name": "script"},
        headers={"Authorization": f"Bearer {admin_token.token}"},
    )
    assert made.status_code == 201
    exchanged = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": iep.client_id,
            "client_secret": iep.client_secret,
        },
    )
    assert exchanged.status_code == 200
    with container.engine.connect() as conn:
        issuers = dict(conn.execute(select(api_tokens.c.name, api_tokens.c.issued_by)).all())
    assert issuers == {
        "op de server": "cli",
        "script": made_by.user_id,
        "client_credentials": f"client:{iep.client_id}",
    }


@pytest.fixture
def iep(container: Container) -> IssuedClient:
    container.register.add_school(School(id="school-9", brin="09ZZ", name="Negen"))
    return container.clients.add("koppeling@iep.nl", "IEP-koppeling", ["school-9"])


# --- idempotency keys are the caller's own ---------------------------------------------------


def test_another_schools_idempotency_key_neither_refuses_nor_shows_yours(
    client: TestClient, container: Container
) -> None:
    mine = {"Authorization": f"Bearer {bearer(container, Role.IB, SCHOOL)}"}
    theirs = {"Authorization": f"Bearer {bearer(container, Role.IB, OTHER)}"}
    key = {"Idempotency-Key": "try-1"}
    bulk = {"pupils": [NOOR, NOOR | {"given_name": "Sem"}]}

    first = client.post(f"/api/v1/schools/{SCHOOL.id}/pupils/bulk", json=bulk, headers=mine | key)
    other = client.post(f"/api/v1/schools/{OTHER.id}/pupils/bulk", json=bulk, headers=theirs | key)
    assert (first.status_code, other.status_code) == (201, 201), other.text
    mine_ids = [p["pupil_id"] for p in first.json()["enrolled"]]
    their_ids = [p["pupil_id"] for p in other.json()["enrolled"]]
    assert not set(mine_ids) & set(their_ids)
    schools = {getattr(container.register.pupil(p), "school_id", None) for p in their_ids}
    assert schools == {OTHER.id}

    # a retry by the same caller is still the first answer, and stores nothing new
    with container.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(events)).scalar_one()
    again = client.post(f"/api/v1/schools/{SCHOOL.id}/pupils/bulk", json=bulk, headers=mine | key)
    assert again.json() == first.json()
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == before

    # a pupil command and a single enrolment with one key each, at each school
    key = {"Idempotency-Key": "try-2"}
    for headers, pupil in ((mine, mine_ids[0]), (theirs, their_ids[0])):
        advice = client.post(
            f"/api/v1/pupils/{pupil}/provisional-advice", json=ADVICE, headers=headers | key
        )
        assert advice.status_code == 201, advice.text
        assert advice.json()["pupil_id"] == pupil
    one = NOOR | {"given_name": "Fenna"}
    key = {"Idempotency-Key": "try-3"}
    singles = [
        client.post(f"/api/v1/schools/{school.id}/pupils", json=one, headers=headers | key)
        for school, headers in ((SCHOOL, mine), (OTHER, theirs))
    ]
    assert [s.status_code for s in singles] == [201, 201], singles[1].text
    assert singles[0].json()["pupil_id"] != singles[1].json()["pupil_id"]


# --- correlation ids --------------------------------------------------------------------------


@pytest.fixture
def teacher(container: Container, app: FastAPI) -> tuple[dict[str, str], uuid.UUID]:
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
    return {"Authorization": f"Bearer {bearer(container, Role.LEERKRACHT, SCHOOL, '8A')}"}, pupil


@pytest.mark.parametrize(
    "correlation", ["x" * 65, "Noor de Vries, 8A", "a\u00e9b".encode(), "", "x;DROP"], ids=repr
)
def test_a_correlation_id_that_is_not_short_and_opaque_is_refused_and_nothing_is_stored(
    client: TestClient,
    container: Container,
    teacher: tuple[dict[str, str], uuid.UUID],
    correlation: str | bytes,
) -> None:
    headers, pupil = teacher
    before = container.store.read_stream(trajectory_stream(pupil))
    assert before  # the enrolment
    refused = client.post(
        f"/api/v1/pupils/{pupil}/provisional-advice",
        json=ADVICE,
        headers=[
            *((name.encode(), value.encode()) for name, value in headers.items()),
            (
                b"X-Correlation-ID",
                correlation if isinstance(correlation, bytes) else correlation.encode(),
            ),
        ],
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "correlation_id_invalid"
    assert container.store.read_stream(trajectory_stream(pupil)) == before


def test_a_sane_correlation_id_is_stored_and_a_bad_request_id_is_replaced(
    client: TestClient, container: Container, teacher: tuple[dict[str, str], uuid.UUID]
) -> None:
    headers, pupil = teacher
    done = client.post(
        f"/api/v1/pupils/{pupil}/provisional-advice",
        json=ADVICE,
        headers=headers
        | {"X-Correlation-ID": "import:2026-01.3", "X-Request-ID": "Noor de Vries " + "x" * 60},
    )
    assert done.status_code == 201, done.text
    request_id = done.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    metadata = container.store.read_stream(trajectory_stream(pupil))[-1].metadata
    assert metadata["correlation_id"] == "import:2026-01.3"
    assert metadata["request_id"] == request_id


# --- request bodies ---------------------------------------------------------------------------

MB = 1024 * 1024
CHUNK = 64 * 1024


class Body:
    """A 100 MB body streamed in chunks, counting what the app pulled from it."""

    def __init__(self, size: int = 100 * MB) -> None:
        self.size = size
        self.pulled = 0

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        while self.pulled < self.size:
            self.pulled += CHUNK
            yield {"type": "http.request", "body": b"{" * CHUNK, "more_body": True}
        yield {"type": "http.request", "body": b"", "more_body": False}


def call(app: FastAPI, path: str, body: Body, *, with_length: bool) -> tuple[int, dict[str, str]]:
    """Drive the ASGI app directly with a streamed body; the status and headers it answers."""
    headers = [(b"content-type", b"application/json")]
    if with_length:
        headers.append((b"content-length", str(body.size).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.9", 50000),
        "server": ("testserver", 80),
    }
    answer: dict[str, Any] = {}

    async def run() -> None:
        stream = body.messages()

        async def receive() -> Message:
            return await anext(stream)

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

        await app(scope, receive, send)

    asyncio.run(run())
    return answer["status"], answer["headers"]


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_a_100_mb_body_is_refused_before_it_is_read(
    app: FastAPI, container: Container, with_length: bool
) -> None:
    for path, limit in (
        (f"/api/v1/schools/{SCHOOL.id}/pupils/bulk", container.settings.max_body_bytes),
        ("/doorstroomtoetsketen/v1.1/leerlingresultaat", container.settings.max_chain_body_bytes),
    ):
        body = Body()
        status, headers = call(app, path, body, with_length=with_length)
        assert status == 413  # anonymous, and still not 401: nothing read it to authenticate
        assert headers["connection"] == "close"
        assert body.pulled == (0 if with_length else limit + CHUNK)


# --- headers ----------------------------------------------------------------------------------

SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy")


def assert_secured(response: Any, *, hsts: bool = False) -> None:
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert ("strict-transport-security" in response.headers) is hsts


def test_security_headers_are_on_pages_api_answers_and_errors(
    app: FastAPI, container: Container
) -> None:
    def boom() -> None:
        raise RuntimeError("een fout die niemand verwachtte")

    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = {
            "page": client.get("/login"),
            "api": client.get("/health"),
            "401": client.get(f"/api/v1/schools/{SCHOOL.id}/pupils"),
            "404": client.get("/api/v1/nergens"),
            "422": client.post("/api/v1/oauth/token", data={}),
            "413": client.post("/api/v1/users", content=b"{" * (2 * MB)),
            "500": client.get("/api/v1/boom"),
            "docs": client.get("/docs"),
        }
    assert {name: r.status_code for name, r in answers.items()} == {
        "page": 200,
        "api": 200,
        "401": 401,
        "404": 404,
        "422": 422,
        "413": 413,
        "500": 500,
        "docs": 200,
    }
    for response in answers.values():
        assert_secured(response)
    page_policy = answers["page"].headers["content-security-policy"]
    assert "default-src 'self'" in page_policy
    # styles and scripts only from our own files: nothing inline is allowed, nor eval
    assert "style-src 'self';" in page_policy
    assert "script-src 'self';" in page_policy
    assert "unsafe-inline" not in page_policy
    assert "unsafe-eval" not in page_policy
    assert "sha256-" not in page_policy
    assert "<style" not in answers["page"].text
    # the interactive docs load Swagger UI from our own /static, no CDN
    # (tests/e2e/test_docs_offline.py)
    assert "https://" not in answers["docs"].headers["content-security-policy"]
    assert "https://" not in page_policy


def test_hsts_is_sent_in_production_only(container: Container, app: FastAPI) -> None:
    with TestClient(app) as client:
        assert_secured(client.get("/health"), hsts=False)
    container.settings.environment = "production"
    with TestClient(create_app(container), base_url="https://testserver") as client:
        assert_secured(client.get("/health"), hsts=True)
        assert_secured(client.get("/login"), hsts=True)
