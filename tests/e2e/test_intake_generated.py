"""Leerlingresultaat messages generated from the standard's own schema (schemathesis over the
kept copy of the YAML): every valid one is accepted and, after the worker, is exactly the
events the rules give; every invalid one is a 422 and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from service.bootstrap import Container
from service.intake.processing import process_pending
from service.intake.standard import document, errors_in
from tests.conftest import Clock
from tests.e2e.intake import SCHOOL, URL, provider_client, pupil_with_advice
from workflows.scale import Comparison, SchoolAdvice, compare, parse_test_advice

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
    with provider_client(container, clock) as http:
        yield http


def test_every_valid_message_is_accepted_and_becomes_the_events_the_rules_give(
    provider: TestClient, container: Container, clock: Clock
) -> None:
    seen: list[bool] = []

    @EXAMPLES
    @given(case=OPERATION.as_strategy())
    def deliver(case: Any) -> None:
        message = case.body
        assert errors_in("Leerlingresultaat", message) == []  # valid by the standard
        assume("\\u0000" not in json.dumps(message))  # NUL is refused by design (test_nul_guard)
        # each toetsadvies in turn: which ones a generator happens to draw varied with the
        # order of the whole suite (a run drew no higher one at all)
        advice = TOETSADVIEZEN[len(seen) % len(TOETSADVIEZEN)]
        pupil = pupil_with_advice(container, clock)
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
