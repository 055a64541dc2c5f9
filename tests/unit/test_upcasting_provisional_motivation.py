"""The voorlopig advies carries its motivation since v3; v1 and v2 events keep loading (no
motivation was written then) and a v3 event keeps its motivation through the codec."""

from __future__ import annotations

from datetime import date

from workflows.codec import PersonalText
from workflows.enums import Timeliness
from workflows.events import CODEC, ProvisionalAdviceGiven
from workflows.scale import SchoolAdvice


def test_v1_and_v2_events_are_read_as_v3_without_a_motivation() -> None:
    v2 = {"advice": "HAVO", "given_on": "2026-01-15", "timeliness": "on_time"}
    expected = ProvisionalAdviceGiven(
        advice=SchoolAdvice.HAVO,
        given_on=date(2026, 1, 15),
        timeliness=Timeliness.ON_TIME,
        motivation=None,
    )
    assert CODEC.decode("provisional_advice_given", 2, v2) == expected
    v1 = {"advice": "havo", "given_on": "2026-01-15"}
    assert CODEC.decode("provisional_advice_given", 1, v1) == expected


def test_a_v3_event_stores_its_motivation_as_personal_text() -> None:
    event = ProvisionalAdviceGiven(
        advice=SchoolAdvice.VMBO_GLTL,
        given_on=date(2025, 12, 1),
        timeliness=Timeliness.EARLY,
        motivation=PersonalText("Werkt zelfstandig; rekenen op 1F."),
    )
    event_type, version, data = CODEC.encode(event)
    assert (event_type, version) == ("provisional_advice_given", 3)
    assert data["motivation"] == "Werkt zelfstandig; rekenen op 1F."
    assert CODEC.personal_fields(event_type) == frozenset({"motivation"})
    assert CODEC.decode(event_type, version, data) == event
