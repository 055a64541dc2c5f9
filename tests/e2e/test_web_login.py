"""Logging in to the website: the session cookie, CSRF on everything that changes something,
rate limiting per account and per address, logging out, expiry and disabled accounts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.cli import app as cli
from service.schools.register import Pupil, School
from service.store.schema import login_attempts, web_sessions
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.web import PASSWORD, csrf, log_in, try_log_in

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school
EMAIL = "juf@school.nl"
ADVICE = {"advice": "havo", "given_on": "2026-01-15"}
TABLES = (web_sessions, login_attempts)


@pytest.fixture
def pupil(container: Container) -> uuid.UUID:
    container.register.add_school(SCHOOL)
    container.accounts.add_user(
        EMAIL, "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")], PASSWORD
    )
    pupil_id = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil_id), SCHOOL.id, "Noor", "de Vries", "8A"))
    return pupil_id


@pytest.fixture
def browser(container: Container, pupil: uuid.UUID) -> Iterator[TestClient]:
    with TestClient(
        create_app(container), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def test_a_teacher_logs_in_and_gets_a_session_cookie_that_scripts_cannot_read(
    browser: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    form = browser.get("/login")
    assert form.status_code == 200
    assert "Inloggen" in form.text
    assert "Wachtwoord" in form.text

    done = try_log_in(browser, EMAIL)
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith("adviestraject_session=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # development over http; production below

    start = browser.get("/")
    assert "Juf Anna (leerkracht)" in start.text
    assert "Noor de Vries" in start.text
    assert "voorlopig schooladvies geven: 31-01-2026" in start.text
    assert start.headers["cache-control"] == "no-store"
    assert [r[3] for r in reads_of(container.engine, str(pupil))] == ["startpagina"]


def test_in_production_the_session_cookie_is_secure(container: Container, pupil: uuid.UUID) -> None:
    container.settings.environment = "production"
    with TestClient(
        create_app(container), base_url="https://testserver", follow_redirects=False
    ) as client:
        done = try_log_in(client, EMAIL)
    cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith("adviestraject_session=")
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_the_session_reads_the_api_but_changes_nothing_without_its_csrf_token(
    browser: TestClient, container: Container, pupil: uuid.UUID
) -> None:
    log_in(browser, EMAIL)
    url = f"/api/v1/pupils/{pupil}/provisional-advice"
    assert browser.get(f"/api/v1/pupils/{pupil}/trajectory").status_code == 200

    forged = browser.post(url, json=ADVICE)
    assert forged.status_code == 403
    assert forged.json()["code"] == "csrf_failed"
    wrong = browser.post(url, json=ADVICE, headers={"X-CSRF-Token": "raden"})
    assert wrong.status_code == 403
    assert container.store.stream_version(f"trajectory-{pupil}") == 1

    done = browser.post(url, json=ADVICE, headers={"X-CSRF-Token": csrf(browser.get("/").text)})
    assert done.status_code == 201, done.text


def test_a_login_form_not_from_our_page_is_refused(browser: TestClient) -> None:
    refused = browser.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "van-elders"}
    )
    assert refused.status_code == 400
    assert "verlopen" in refused.text
    assert "adviestraject_session" not in browser.cookies


def test_a_wrong_password_says_so_in_dutch_without_telling_which_part_was_wrong(
    browser: TestClient,
) -> None:
    wrong = try_log_in(browser, EMAIL, "niet-het-wachtwoord")
    unknown = try_log_in(browser, "onbekend@school.nl")
    assert wrong.status_code == unknown.status_code == 401
    assert "horen niet bij elkaar" in wrong.text
    assert wrong.text.count("horen niet bij elkaar") == unknown.text.count("horen niet bij elkaar")


def test_after_five_failures_the_account_waits_even_with_the_right_password(
    browser: TestClient, clock: Clock
) -> None:
    for _ in range(5):
        assert try_log_in(browser, EMAIL, "fout-fout-fout").status_code == 401
    paused = try_log_in(browser, EMAIL)
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) > 0
    assert "Te veel mislukte pogingen" in paused.text

    clock.now += timedelta(minutes=16)
    log_in(browser, EMAIL)
    browser.cookies.clear()
    # a success starts the account's count afresh
    for _ in range(4):
        try_log_in(browser, EMAIL, "fout-fout-fout")
    log_in(browser, EMAIL)


def test_one_address_guessing_at_many_accounts_is_paused(
    browser: TestClient, container: Container
) -> None:
    for n in range(container.throttle.limits.per_address):
        try_log_in(browser, f"gok{n}@school.nl", "fout-fout-fout")
    assert try_log_in(browser, EMAIL).status_code == 429


def test_logging_out_needs_the_form_and_ends_the_session(
    browser: TestClient, pupil: uuid.UUID
) -> None:
    log_in(browser, EMAIL)
    cookie = browser.cookies["adviestraject_session"]
    trajectory = f"/api/v1/pupils/{pupil}/trajectory"

    forged = browser.post("/logout", data={"csrf_token": "van-elders"})
    assert forged.status_code == 403
    assert browser.get(trajectory).status_code == 200

    out = browser.post("/logout", data={"csrf_token": csrf(browser.get("/").text)})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    browser.cookies.set("adviestraject_session", cookie)
    replayed = browser.get(trajectory)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "session_expired"


def test_a_session_ends_with_the_school_day_and_with_the_account(
    browser: TestClient, container: Container, pupil: uuid.UUID, clock: Clock
) -> None:
    trajectory = f"/api/v1/pupils/{pupil}/trajectory"
    log_in(browser, EMAIL)
    clock.now += timedelta(hours=10)
    assert browser.get(trajectory).status_code == 401
    assert "Juf Anna" not in browser.get("/").text

    again = try_log_in(browser, EMAIL, keep_cookies=True)  # the browser whose session expired
    assert again.status_code == 303
    assert browser.get(trajectory).status_code == 200
    container.accounts.disable(EMAIL)
    assert browser.get(trajectory).status_code == 401


def test_the_worker_forgets_ended_sessions_and_old_login_attempts(
    browser: TestClient, container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    try_log_in(browser, EMAIL, "fout-fout-fout")  # on the fixed test day, in January
    log_in(browser, EMAIL)
    current = container.sessions.start(container.accounts.list_users()[0], "127.0.0.1")
    with container.engine.connect() as conn:
        counts = [conn.scalar(select(func.count()).select_from(t)) for t in TABLES]
    assert counts == [2, 2]
    # the worker runs on the real clock, months later: January's session and attempts are old
    with container.engine.begin() as conn:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.csrf_token == current.csrf_token)
            .values(expires_at=datetime.now(UTC) + timedelta(hours=1))
        )
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    assert CliRunner().invoke(cli, ["worker", "--once"]).exit_code == 0
    with container.engine.connect() as conn:
        counts = [conn.scalar(select(func.count()).select_from(t)) for t in TABLES]
    assert counts == [1, 0]  # the session that is still valid stays
