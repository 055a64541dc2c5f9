"""Results in through the chain standard: POST /leerlingresultaat, the inbox, and the worker
that turns a delivery into the pupil's events — the heroverweging trigger.

Payloads are the standard's own example with our LAS-key; the answers are the standard's
(202/401/405/422 with an Ontvangstmelding). Nothing a provider sends is lost: a delivery for an
unknown pupil, or one the rules refuse, is kept with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.cli import app as cli
from service.intake.processing import process_pending
from service.intake.standard import errors_in, example
from service.schools.register import Pupil, School
from service.store.schema import result_deliveries
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.intake import EDU_TO, OIN, SCHOOL, URL, provider_client, pupil_with_advice
from workflows.scale import SchoolAdvice, TestAdvice

OTHER = School(id="school-2", brin="02BB", name="De Andere School")


@pytest.fixture
def provider(container: Container, clock: Clock) -> Iterator[TestClient]:
    container.register.add_school(OTHER)
    with provider_client(container, clock) as http:
        yield http


def delivery(pupil: uuid.UUID | str, toetsadvies: str, delivery_id: str = "rs-1") -> dict[str, Any]:
    """The standard's example Leerlingresultaat, for our pupil, with this toetsadvies."""
    message = example("/leerlingresultaat", "Leerlingresultaat")
    scores = message["resultatenscores"]
    scores["id"] = delivery_id
    scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": str(pupil)}]
    for result in scores["resultaten"]["resultaten"]:
        if result["label"] == "Toetsadvies":
            result["waarde"] = toetsadvies
    return message


def events_of(container: Container, pupil: uuid.UUID) -> list[str]:
    return [e.event_type for e in container.store.read_stream(f"trajectory-{pupil}")]


def test_the_standards_example_is_accepted_and_a_higher_result_needs_a_heroverweging(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    answer = provider.post(URL, json=delivery(pupil, "vwo"))
    assert answer.status_code == 202, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["melding"] == "Bericht succesvol ontvangen en wordt asynchroon verwerkt."
    assert events_of(container, pupil) == ["pupil_enrolled", "provisional_advice_given"]

    assert process_pending(container) == 1
    assert events_of(container, pupil)[2:] == ["test_result_received", "reconsideration_required"]
    [settled] = container.inbox.of_school(SCHOOL.id)
    assert (settled.state, settled.pupil_id) == ("processed", str(pupil))
    state = container.trajectories.load(pupil)
    assert state.reconsideration_deadline == date(2026, 3, 24)
    assert {(lv.domain, lv.level) for lv in state.test_delivery.reference_levels} == {  # type: ignore[union-attr]
        ("rekenen", "1S"),
        ("lezen", "1F"),
        ("taalverzorging", "L1F"),
    }


def test_standlevering_identical_changes_nothing_a_correction_replaces_unknown_is_kept(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    stranger = uuid.uuid4()
    for message in (
        delivery(pupil, "vwo"),
        delivery(pupil, "vwo"),  # the same again
        delivery(pupil, "vmbo-gt/havo", delivery_id="rs-2"),  # corrected: now below havo
        delivery(stranger, "havo/vwo"),
    ):
        assert provider.post(URL, json=message).status_code == 202
    assert process_pending(container) == 4
    assert process_pending(container) == 0  # nothing left pending

    first, again, corrected, unknown = container.inbox.of_school(SCHOOL.id)
    assert first.outcome == "verwerkt: toetsuitslag vastgelegd, heroverweging nodig"
    assert (again.state, again.outcome) == (
        "processed",
        "dezelfde uitslag als eerder geleverd: niets veranderd",
    )
    assert corrected.state == "processed"
    assert (unknown.state, unknown.pupil_ref) == ("unknown_pupil", str(stranger))
    assert str(stranger) in (unknown.outcome or "")
    container.accounts.add_user("ib@school.nl", "IB", Role.IB, [Scope(SCHOOL.id)])
    ib = {"Authorization": f"Bearer {container.accounts.issue_token('ib@school.nl', 't', 7).token}"}
    reported = provider.get(
        f"/api/v1/schools/{SCHOOL.id}/deliveries",
        params={"state": "unknown_pupil"},
        headers=ib,
    ).json()["items"]
    assert [(d["pupil_ref"], d["provider"]) for d in reported] == [(str(stranger), "ICE")]
    # the correction replaces the result: not higher any more, so the voorlopig advies stands
    assert events_of(container, pupil)[2:] == [
        "test_result_received",
        "reconsideration_required",
        "test_result_received",
        "reconsideration_lapsed",
        "final_advice_given",
    ]
    corrected_advice = container.trajectories.load(pupil).test_advice
    assert corrected_advice is TestAdvice.VMBO_GLTL_HAVO


def test_a_corrected_higher_result_withdraws_the_automatic_definitief_advies_on_the_trajectory(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    assert provider.post(URL, json=delivery(pupil, "vmbo-gt/havo")).status_code == 202
    assert process_pending(container) == 1
    assert events_of(container, pupil)[-1] == "final_advice_given"  # automatic: not higher
    corrected = delivery(pupil, "vwo", delivery_id="rs-2")
    assert provider.post(URL, json=corrected).status_code == 202
    assert process_pending(container) == 1

    assert events_of(container, pupil)[-3:] == [
        "test_result_received",
        "automatic_final_advice_withdrawn",
        "reconsideration_required",
    ]
    container.accounts.add_user("dir@school.nl", "Directie", Role.DIRECTIE, [Scope(SCHOOL.id)])
    token = container.accounts.issue_token("dir@school.nl", "t", 7).token
    shown = provider.get(
        f"/api/v1/pupils/{pupil}/trajectory", headers={"Authorization": f"Bearer {token}"}
    )
    assert shown.status_code == 200, shown.text
    trajectory = shown.json()
    assert trajectory["status"] == "reconsideration_required"
    assert trajectory["final_advice"] is None
    assert trajectory["current_advice"]["code"] == "HAVO", "not lowered"
    assert trajectory["withdrawn_final_advice"] == {
        "advice": {"code": "HAVO", "label": "havo"},
        "basis": "test_not_higher",
        "given_on": "2026-03-10",
        "withdrawn_on": "2026-03-10",
        "test_advice": "vwo",
    }


def test_a_result_the_rules_refuse_is_kept_with_the_reason(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    unadvised = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(unadvised), SCHOOL.id, "Sem", "Bakker", "8A"))
    advised = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    provider.post(URL, json=delivery(unadvised, "vwo"))
    provider.post(URL, json=delivery(advised, "gymnasium-plus"))
    process_pending(container)
    no_advice, unmapped = container.inbox.of_school(SCHOOL.id)
    assert no_advice.state == "refused"
    assert "wacht op voorlopig advies" in (no_advice.outcome or "")
    assert unmapped.state == "refused"
    assert "gymnasium-plus" in (unmapped.outcome or "")
    assert events_of(container, advised) == ["pupil_enrolled", "provisional_advice_given"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.pop("resultatenscores"), "body"),
        (lambda m: m.update(versie="Doorstroomtoetsketen_v1.0"), "versie"),
        (lambda m: m.update(datumtijd="gisteren"), "datumtijd"),
        (lambda m: m["toets"].update(id="CITO"), "toets.id"),
        (lambda m: m["resultatenscores"].update(deelnemerref=[]), "resultatenscores.deelnemerref"),
    ],
)
def test_a_message_against_the_standards_schema_is_a_422_and_stores_nothing(
    provider: TestClient, container: Container, clock: Clock, change: Any, field: str
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    message = delivery(pupil, "vwo")
    change(message)
    answer = provider.post(URL, json=message)
    assert answer.status_code == 422
    assert answer.json()["code"] == "schema_invalid"
    assert field in {error["field"] for error in answer.json()["errors"]}
    assert container.inbox.of_school(SCHOOL.id) == []


def test_not_json_at_all_is_a_422(provider: TestClient, container: Container) -> None:
    answer = provider.post(URL, content=b"{niet-json", headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (422, "json_invalid")
    assert container.inbox.of_school(SCHOOL.id) == []


def deliveries_stored(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(result_deliveries)).scalar_one())


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "json"),
        ("text/plain; charset=utf-8", "json"),
        ("application/xml", "<Leerlingresultaat><versie>Doorstroomtoetsketen_v1.1</versie>"),
        ("text/xml", "json"),
        ("application/x-www-form-urlencoded", "versie=Doorstroomtoetsketen_v1.1"),
        ("multipart/form-data; boundary=x", "--x\r\n\r\njson\r\n--x--"),
        ("application/jsonp", "json"),
        ("application/json; charset=iso-8859-1", "json"),
        (None, "json"),
        ("", "json"),
    ],
)
def test_a_body_that_is_not_application_json_is_refused_with_an_ontvangstmelding_and_not_stored(
    provider: TestClient, container: Container, clock: Clock, content_type: str | None, body: str
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    # the body is the standard's valid message where the case says "json": only the type is wrong
    content = orjson.dumps(delivery(pupil, "vwo")) if body == "json" else body.encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    answer = provider.post(URL, content=content, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/json"
    said = answer.json()
    assert said["code"] == "content_type_invalid"
    assert said["melding"].startswith("Bericht ontvangen maar heeft ongeldige berichtinhoud")
    assert errors_in("Ontvangstmelding", said) == []
    assert deliveries_stored(container) == 0
    assert process_pending(container) == 0
    assert events_of(container, pupil) == ["pupil_enrolled", "provisional_advice_given"]


def test_application_json_with_a_utf8_charset_and_any_case_is_accepted(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    content = orjson.dumps(delivery(pupil, "vwo"))
    for content_type in ("application/json; charset=UTF-8", "Application/JSON"):
        answer = provider.post(URL, content=content, headers={"Content-Type": content_type})
        assert answer.status_code == 202, answer.text
    assert deliveries_stored(container) == 2


def test_an_unknown_school_is_405_and_a_sender_the_school_did_not_mandate_is_401(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    message = delivery(pupil, "vwo")
    unknown = f"/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to={'9' * 20}&edu-from={OIN}"
    assert provider.post(unknown, json=message).status_code == 405
    other_oin = URL.replace(f"edu-from={OIN}", f"edu-from={'1' * 20}")
    assert provider.post(other_oin, json=message).status_code == 401
    short = URL.replace(EDU_TO, "123")
    assert provider.post(short, json=message).json()["code"] == "routing_invalid"

    elsewhere = container.clients.add("koppeling@route8.nl", "ROUTE 8", [OTHER.id])
    token = container.clients.exchange(elsewhere.client_id, elsewhere.client_secret)
    assert token is not None
    not_mandated = provider.post(
        URL, json=message, headers={"Authorization": f"Bearer {token.token}"}
    )
    assert (not_mandated.status_code, not_mandated.json()["code"]) == (401, "not_mandated")
    assert (
        provider.post(URL, json=message, headers={"Authorization": "Bearer adv_x"}).status_code
        == 401
    )
    assert container.inbox.of_school(SCHOOL.id) == []


def test_the_worker_command_turns_deliveries_into_events(
    provider: TestClient,
    container: Container,
    clock: Clock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pupil = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
    assert provider.post(URL, json=delivery(pupil, "havo/vwo")).status_code == 202
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.setenv("ADVIESTRAJECT_MAIL_DIR", str(container.settings.mail_dir))
    ran = CliRunner().invoke(cli, ["worker", "--once"])
    assert ran.exit_code == 0, ran.output
    assert events_of(container, pupil)[2:] == ["test_result_received", "reconsideration_required"]
    assert [d.state for d in container.inbox.of_school(SCHOOL.id)] == ["processed"]
