"""Old logs keep loading: an event stored in an earlier shape is read through its upcaster."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from workflows.enums import Timeliness
from workflows.events import CODEC, ProvisionalAdviceGiven
from workflows.lifecycle import Status
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import fold

GOLDEN = Path(__file__).parents[1] / "golden" / "trajectory_pilot_v1.json"


def golden_events() -> list[dict[str, object]]:
    events: list[dict[str, object]] = json.loads(GOLDEN.read_text(encoding="utf-8"))["events"]
    return events


def test_a_v1_voorlopig_advies_is_read_as_v2_with_duos_code_and_its_timeliness() -> None:
    event = CODEC.decode(
        "provisional_advice_given", 1, {"advice": "havo t/m vwo", "given_on": "2026-01-15"}
    )
    assert event == ProvisionalAdviceGiven(
        advice=SchoolAdvice.HAVO_TM_VWO, given_on=date(2026, 1, 15), timeliness=Timeliness.ON_TIME
    )


def test_the_pilots_stored_stream_replays_into_todays_state() -> None:
    history = [
        CODEC.decode(str(e["event_type"]), int(str(e["schema_version"])), e["data"])  # type: ignore[arg-type]
        for e in golden_events()
    ]
    state = fold(history)
    assert state.status is Status.RECONSIDERATION_REQUIRED
    assert state.provisional_advice is not None
    assert state.provisional_advice.advice is SchoolAdvice.VMBO_GLTL_TM_HAVO
    assert state.provisional_advice.timeliness is Timeliness.LATE  # 3 February
    assert state.late == ("provisional_advice_given",)  # the upcaster derives the late flag
    assert state.test_advice is TestAdvice.HAVO_VWO
    assert state.reconsideration_deadline == date(2026, 3, 24)
