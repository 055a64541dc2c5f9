"""Integrity as routine, on both databases: a full check of the hash chain is stored; the worker
runs one when the last is a day old (by the service's clock); `adviestraject verify` stores its
result too; a tampered event makes the status broken, and it stays broken until a later full
check passes; the pupil page shows the status (a quiet line, or the alert)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.audit.integrity import (
    UNCHECKED_MESSAGE,
    check_if_due,
    check_now,
    record,
    status,
)
from service.audit.verify import verify
from service.bootstrap import Container
from service.cli import app
from service.schools.register import Pupil, School
from service.store.schema import integrity_checks
from service.worker import housekeeping
from tests.conftest import Clock
from tests.e2e.web import PASSWORD, browse
from workflows.commands import EnrolPupil, GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")


def enrol_with_advice(container: Container, given: str = "Noor") -> str:
    """A pupil of 8A enrolled and given a voorlopig advies: two events."""
    pupil_id = str(uuid.uuid4())
    container.register.add_pupil(Pupil(pupil_id, SCHOOL.id, given, "de Vries", "8A"))
    context = CommandContext(actor=Actor("t", "leerkracht"))
    enrol = EnrolPupil(
        school_id=SCHOOL.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    container.trajectories.execute(uuid.UUID(pupil_id), enrol, context)
    advice = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    container.trajectories.execute(uuid.UUID(pupil_id), advice, context)
    return pupil_id


@pytest.fixture
def pupils(container: Container) -> list[str]:
    """Three pupils: six events, positions 1-6."""
    container.register.add_school(SCHOOL)
    return [enrol_with_advice(container, name) for name in ("Noor", "Sem", "Lotte")]


def tamper_off(engine: Engine) -> None:
    """What a database superuser can do: switch the append-only triggers off (as in
    test_tamper_evidence.py)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))


def data_at(engine: Engine, position: int) -> str:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT data FROM events WHERE position = :p"), {"p": position}
        ).scalar_one()
    return value if isinstance(value, str) else json.dumps(value)


def set_data(engine: Engine, position: int, data: str) -> None:
    with engine.begin() as conn:
        cast = "CAST(:d AS jsonb)" if engine.dialect.name == "postgresql" else ":d"
        conn.execute(
            text(f"UPDATE events SET data = {cast} WHERE position = :p"), {"d": data, "p": position}
        )


def checks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(integrity_checks)).scalar_one())


def test_before_any_check_the_status_says_the_chain_is_not_yet_checked(
    container: Container,
) -> None:
    found = status(container.engine)
    assert (found.ok, found.checked, found.message) == (True, False, UNCHECKED_MESSAGE)


def test_a_check_of_an_untouched_log_is_stored_as_verified_up_to_the_head(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    found = check_now(container)
    assert found.ok
    assert found.checked
    assert (found.verified_to, found.first_bad_position) == (6, None)
    assert found.checked_at == clock.now
    assert found.message == "Keten geverifieerd tot en met positie 6 op 20-01-2026 om 11:00"
    assert status(container.engine) == found


def test_a_tampered_event_makes_the_status_broken_until_a_later_full_check_passes(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    engine = container.engine
    assert check_now(container).ok
    tamper_off(engine)
    original = data_at(engine, 4)
    set_data(engine, 4, json.dumps({"advice": "VWO", "given_on": "2026-01-15"}))
    clock.now += timedelta(hours=1)

    broken = check_now(container)
    assert (broken.ok, broken.first_bad_position, broken.verified_to) == (False, 4, 3)
    assert broken.message.startswith("De keten is verbroken bij positie 4 — ")
    assert status(engine) == broken

    set_data(engine, 4, original)  # restored: the chain is whole again
    clock.now += timedelta(hours=1)
    partial = record(engine, verify(container.store), clock.now, full=False, source="cli")
    assert partial == broken  # a check without the anchor file clears nothing

    clock.now += timedelta(hours=1)
    whole = check_now(container)
    assert (whole.ok, whole.verified_to) == (True, 6)
    assert status(engine) == whole


def test_the_worker_checks_when_the_last_check_is_a_day_old_by_the_service_clock(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    housekeeping(container)
    assert checks(container.engine) == 1
    clock.now += timedelta(hours=23, minutes=59)
    housekeeping(container)
    assert check_if_due(container) is None
    assert checks(container.engine) == 1
    clock.now += timedelta(minutes=1)
    housekeeping(container)
    assert checks(container.engine) == 2
    assert status(container.engine).checked_at == clock.now


def test_a_check_without_the_anchor_file_does_not_postpone_the_daily_full_check(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    check_now(container)
    clock.now += timedelta(hours=20)
    record(container.engine, verify(container.store), clock.now, full=False, source="cli")
    clock.now += timedelta(hours=4)
    assert check_if_due(container) is not None
    assert checks(container.engine) == 3


def test_the_daily_check_finds_a_tampered_event(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    housekeeping(container)
    tamper_off(container.engine)
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position = 2"))
    clock.now += timedelta(days=1)
    housekeeping(container)
    found = status(container.engine)
    assert (found.ok, found.first_bad_position) == (False, 2)


def test_the_verify_command_stores_its_result(
    container: Container, pupils: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = container.settings
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ADVIESTRAJECT_KEY_FILE", str(settings.key_file))
    monkeypatch.setenv("ADVIESTRAJECT_ANCHOR_DIR", str(settings.anchor_dir))
    ran = CliRunner().invoke(app, ["verify"])
    assert ran.exit_code == 0, ran.output
    found = status(container.engine)
    assert (found.ok, found.verified_to) == (True, 6)

    tamper_off(container.engine)
    set_data(container.engine, 5, json.dumps({"advice": "VWO"}))
    ran = CliRunner().invoke(app, ["verify", "--no-anchor"])
    assert ran.exit_code == 1
    found = status(container.engine)
    assert (found.ok, found.first_bad_position) == (False, 5)


def directie(container: Container) -> TestClient:
    """A directie member of the school, logged in on the real app."""
    container.accounts.add_user(
        "directie@school.nl", "Dirk Directeur", Role.DIRECTIE, [Scope(SCHOOL.id)], PASSWORD
    )
    return browse(container, "directie@school.nl")


def test_the_pupil_page_shows_the_chain_verified_and_after_tampering_the_alert(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    client = directie(container)
    check_now(container)
    html = client.get(f"/leerlingen/{pupils[0]}").text
    assert "Keten geverifieerd tot en met positie 6 op 20-01-2026 om 11:00" in html
    assert "utrecht-alert--error" not in html

    tamper_off(container.engine)
    original = data_at(container.engine, 3)
    set_data(container.engine, 3, json.dumps({"school_id": "school-2"}))
    clock.now += timedelta(minutes=10)
    check_now(container)
    html = client.get(f"/leerlingen/{pupils[0]}").text
    assert "De keten is verbroken bij positie 3 — " in html
    assert 'class="utrecht-alert utrecht-alert--error app-integrity' in html

    set_data(container.engine, 3, original)
    check_now(container)
    html = client.get(f"/leerlingen/{pupils[0]}").text
    assert "De keten is verbroken" not in html
    assert "Keten geverifieerd tot en met positie 6" in html


def test_every_page_a_signed_in_person_opens_shows_a_broken_chain_once(
    container: Container, pupils: list[str], clock: Clock
) -> None:
    client = directie(container)
    check_now(container)
    pages = ("/", "/klassen", "/heroverwegingen", "/toegangslog", f"/leerlingen/{pupils[1]}")
    for url in pages:
        assert "De keten is verbroken" not in client.get(url).text, url

    tamper_off(container.engine)
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position = 5"))
    check_now(container)
    for url in pages:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.text.count("De keten is verbroken bij positie 5 — ") == 1, url
    login = TestClient(create_app(container)).get("/login").text
    assert "De keten is verbroken" not in login  # nobody signed in: nothing to warn about
