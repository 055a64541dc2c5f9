"""Leerlingresultaat messages generated from the standard's own schema (schemathesis over the
kept copy of the YAML): every valid one is accepted and, after the worker, is exactly the
events the rules give; every invalid one is a 422 and stores nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container
from service.intake.processing import process_pending
from service.intake.standard import document, errors_in
from service.schools.register import Pupil, School
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import GiveProvisionalAdvice
from workflows.scale import Comparison, SchoolAdvice, compare, parse_test_advice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
EDU_TO, OIN = "0000000700011BB00530", "0000000700011BB00000"
URL = f"/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to={EDU_TO}&edu-from={OIN}"
TOETSADVIEZEN = [
    "pro/vmbo-bb",
    "vmbo-bb/vmbo-kb",
    "vmbo-kb/vmbo-gt",
    "vmbo-gt/havo",
    "havo/vwo",
    "vwo",
]
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
OPERATION = next(
    result.ok()
    for result in schemathesis.openapi.from_dict(document()).get_all_operations()
    if isinstance(result, Ok) and result.ok().path == "/leerlingresultaat"
)


@pytest.fixture
def provider(container: Container, clock: Clock) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    container.register.set_routing(SCHOOL.id, EDU_TO, OIN)
    client = container.clients.add("koppeling@iep.nl", "IEP-koppeling", [SCHOOL.id])
    clock.now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    token = container.clients.exchange(client.client_id, client.client_secret)
    assert token is not None
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token.token}"},
    ) as http:
        yield http


def advised_pupil(container: Container, clock: Clock) -> uuid.UUID:
    now, clock.now = clock.now, datetime(2026, 1, 15, 12, tzinfo=UTC)
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
    give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    container.trajectories.execute(pupil, give, CommandContext(actor=Actor("juf", "leerkracht")))
    clock.now = now
    return pupil


def test_every_valid_message_is_accepted_and_becomes_the_events_the_rules_give(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    seen = []

    @EXAMPLES
    @given(case=OPERATION.as_strategy(), advice=st.sampled_from(TOETSADVIEZEN))
    def deliver(case: Any, advice: str) -> None:
        message = case.body
        assert errors_in("Leerlingresultaat", message) == []  # valid by the standard
        assume("\\u0000" not in json.dumps(message))  # NUL is refused by design (test_nul_guard)
        pupil = advised_pupil(container, clock)
        scores = message["resultatenscores"]
        scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": str(pupil)}]
        scores["resultaten"]["resultaten"].insert(0, {"label": "Toetsadvies", "waarde": advice})
        answer = provider.post(URL, json=message)
        assert answer.status_code == 202, answer.text
        assert process_pending(container) == 1
        [stored] = container.trajectories.history(pupil)[2:3]
        higher = compare(parse_test_advice(advice), SchoolAdvice.HAVO) is Comparison.HIGHER
        expected = [
            "test_result_received",
            "reconsideration_required" if higher else "final_advice_given",
        ]
        assert [e.event_type for e in container.store.read_stream(f"trajectory-{pupil}")][
            2:
        ] == expected
        assert stored.provider == scores["toetsdefinitie"]  # type: ignore[attr-defined]
        seen.append(higher)

    deliver()
    assert len(seen) >= 20
    assert True in seen, "a higher toetsadvies was generated"
    assert False in seen, "an equal or lower one too"


def test_every_message_against_the_schema_is_refused_and_nothing_is_stored(
    provider: TestClient, container: Container
) -> None:
    refused = []

    @EXAMPLES
    @given(case=OPERATION.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def deliver(case: Any) -> None:
        assume(not isinstance(case.body, bytes | str))  # a JSON value, to be sent as JSON
        assume(errors_in("Leerlingresultaat", case.body))  # the body itself breaks the schema
        answer = provider.post(URL, json=case.body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] in {"schema_invalid", "nul_character"}
        refused.append(answer)

    deliver()
    assert len(refused) >= 10
    assert container.inbox.of_school(SCHOOL.id) == []
