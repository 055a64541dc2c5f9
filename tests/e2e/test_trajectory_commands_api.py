"""Every trajectory command over HTTP: a school year walked route by route, as teacher and directie.

The clock moves with the story (the service takes "now" from it). The doorstroomtoets result
comes in through the command handler, as the intake will deliver it; everything a person at the
school records goes through the API. Refusals are problem+json and leave the stream unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container
from service.schools.register import Pupil, School
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import ReceiveTestResult
from workflows.scale import TestAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school


def at(day: date, hour: int = 17) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


class Staff:
    """One API client per role, all at the pupil's school (the teacher for class 8A)."""

    def __init__(self, container: Container, clock: Clock) -> None:
        container.register.add_school(SCHOOL)
        app = create_app(container)
        self.container, self.clock = container, clock
        self._clients: dict[Role, TestClient] = {}
        for role in (Role.LEERKRACHT, Role.IB, Role.DIRECTIE):
            email = f"{role.value}@school.nl"
            container.accounts.add_user(
                email, role.label, role, [Scope(SCHOOL.id, "8A" if role is Role.LEERKRACHT else "")]
            )
            token = container.accounts.issue_token(email, "tests", days=365).token
            client = TestClient(
                app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}
            )
            self._clients[role] = client.__enter__()

    def close(self) -> None:
        for client in self._clients.values():
            client.__exit__(None, None, None)

    def pupil(self, groep: int = 8) -> uuid.UUID:
        pupil_id = enrolled_pupil(self.container, groep=groep)
        self.container.register.add_pupil(Pupil(str(pupil_id), SCHOOL.id, "Noor", "de Vries", "8A"))
        return pupil_id

    def post(
        self,
        pupil_id: uuid.UUID,
        what: str,
        body: dict[str, Any],
        *,
        on: date,
        by: Role = Role.LEERKRACHT,
        headers: dict[str, str] | None = None,
    ) -> Any:
        self.clock.now = at(on)
        return self._clients[by].post(
            f"/api/v1/pupils/{pupil_id}/{what}", json=body, headers=headers
        )

    def record(
        self, pupil_id: uuid.UUID, what: str, body: dict[str, Any], *, on: date, **kw: Any
    ) -> list[str]:
        """Post a command that must be accepted; the event types it recorded."""
        response = self.post(pupil_id, what, body, on=on, **kw)
        assert response.status_code == 201, response.text
        assert response.headers["ETag"] == f'"{response.json()["stream_version"]}"'
        types: list[str] = response.json()["event_types"]
        return types

    def provisional(self, pupil_id: uuid.UUID, advice: str) -> None:
        """The voorlopig advies, given on 15 January (inside the legal window)."""
        self.record(
            pupil_id,
            "provisional-advice",
            {"advice": advice, "given_on": "2026-01-15"},
            on=date(2026, 1, 15),
        )

    def trajectory(self, pupil_id: uuid.UUID) -> dict[str, Any]:
        response = self._clients[Role.DIRECTIE].get(f"/api/v1/pupils/{pupil_id}/trajectory")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def version(self, pupil_id: uuid.UUID) -> int:
        return self.container.store.stream_version(f"trajectory-{pupil_id}")

    def test_result(self, pupil_id: uuid.UUID, advice: TestAdvice, on: date) -> None:
        self.clock.now = at(on)
        self.container.trajectories.execute(
            pupil_id,
            ReceiveTestResult(provider="IEP", delivery_id="d1", test_advice=advice, received_on=on),
            CommandContext(actor=Actor("intake", "toetsaanbieder")),
        )


@pytest.fixture
def staff(container: Container, clock: Clock) -> Iterator[Staff]:
    s = Staff(container, clock)
    yield s
    s.close()


def test_a_heroverweging_from_voorlopig_to_definitief_advies_is_recorded_over_http(
    staff: Staff,
) -> None:
    noor = staff.pupil()
    assert staff.record(
        noor,
        "provisional-advice",
        {"advice": "vmbo-gt/havo", "given_on": "2026-01-15"},
        on=date(2026, 1, 15),
    ) == ["provisional_advice_given"]
    assert staff.record(
        noor,
        "provisional-advice/corrections",
        {"advice": "havo", "corrected_on": "2026-01-16", "reason": "Verkeerd ingevoerd."},
        on=date(2026, 1, 16),
    ) == ["provisional_advice_corrected"]
    staff.test_result(noor, TestAdvice.HAVO_VWO, date(2026, 3, 10))
    assert staff.trajectory(noor)["status"] == "reconsideration_required"

    conversation = "reconsideration/conversation"
    assert staff.record(
        noor, conversation, {"planned_at": "2026-03-16T15:00:00+01:00"}, on=date(2026, 3, 11)
    ) == ["reconsideration_conversation_planned"]
    assert staff.record(
        noor,
        f"{conversation}/moves",
        {"planned_at": "2026-03-16T16:00:00+01:00", "reason": "Vader kan pas om vier uur."},
        on=date(2026, 3, 12),
    ) == ["reconsideration_conversation_moved"]
    assert staff.record(
        noor,
        f"{conversation}/outcome",
        {"outcome": "held", "held_on": "2026-03-16", "attendees": ["parents", "pupil"]},
        on=date(2026, 3, 16),
    ) == ["reconsideration_conversation_held"]
    assert staff.record(
        noor,
        "reconsideration/decision",
        {"outcome": "raise", "advice": "havo/vwo", "decided_on": "2026-03-17"},
        on=date(2026, 3, 17),
    ) == ["advice_raised"]
    assert staff.record(noor, "final-advice", {"given_on": "2026-03-18"}, on=date(2026, 3, 18)) == [
        "final_advice_given"
    ]

    shown = staff.trajectory(noor)
    assert shown["status"] == "final_advice_given"
    assert shown["provisional_advice"]["advice"]["code"] == "HAVO"
    assert shown["test"]["test_advice"] == TestAdvice.HAVO_VWO.label
    assert shown["reconsideration"]["decision"] == {
        "outcome": "raised",
        "advice": {"code": "HAVO_TM_VWO", "label": "havo/vwo"},
        "decided_on": "2026-03-17",
        "fully": True,
        "reason": None,
    }
    assert shown["reconsideration"]["conversation"] == "held"
    assert shown["final_advice"]["advice"]["code"] == "HAVO_TM_VWO"
    assert shown["final_advice"]["basis"] == "reconsidered"
    assert shown["current_advice"]["code"] == "HAVO_TM_VWO"


def test_keeping_the_advice_then_granting_the_parents_request_and_leaving(staff: Staff) -> None:
    sem = staff.pupil()
    staff.provisional(sem, "vmbo-gt")
    staff.test_result(sem, TestAdvice.VMBO_GLTL_HAVO, date(2026, 3, 10))
    staff.record(
        sem,
        "reconsideration/conversation/outcome",
        {"outcome": "declined", "declined_on": "2026-03-12", "notes": "Ouders zien af."},
        on=date(2026, 3, 12),
    )
    assert staff.record(
        sem,
        "reconsideration/decision",
        {
            "outcome": "keep",
            "decided_on": "2026-03-17",
            "reason": "work_attitude",
            "motivation": "Zelfstandig plannen lukt nog niet.",
        },
        on=date(2026, 3, 17),
    ) == ["advice_kept"]
    staff.record(sem, "final-advice", {"given_on": "2026-03-18"}, on=date(2026, 3, 18))

    asked = staff.post(
        sem,
        "objections",
        {
            "received_on": "2026-03-19",
            "summary": "Ouders vragen vmbo-gt/havo.",
            "requested_advice": "vmbo-gt/havo",
        },
        on=date(2026, 3, 19),
    )
    assert asked.status_code == 201, asked.text
    objection_id = asked.json()["objection_id"]
    assert staff.trajectory(sem)["open_objection"]["objection_id"] == objection_id

    decision = {
        "decided_on": "2026-03-23",
        "granted": True,
        "new_advice": "vmbo-gt/havo",
        "motivation": "Met begeleiding haalbaar.",
    }
    by_teacher = staff.post(
        sem, f"objections/{objection_id}/decision", decision, on=date(2026, 3, 23)
    )
    assert by_teacher.status_code == 403
    assert by_teacher.json()["code"] == "forbidden"
    assert staff.record(
        sem,
        f"objections/{objection_id}/decision",
        decision,
        on=date(2026, 3, 23),
        by=Role.DIRECTIE,
    ) == ["objection_decided", "final_advice_given"]
    assert staff.record(
        sem,
        "okr-conversation",
        {"held_on": "2026-04-02", "parents_saw_okr": True, "parents_view": "Eens."},
        on=date(2026, 4, 2),
    ) == ["okr_conversation_held"]
    registration = {"kind": "final", "sent_on": "2026-04-03"}
    assert (
        staff.post(sem, "national-registrations", registration, on=date(2026, 4, 3)).status_code
        == 403
    )
    assert staff.record(
        sem, "national-registrations", registration, on=date(2026, 4, 3), by=Role.IB
    ) == ["national_register_registration_sent"]
    assert staff.record(
        sem,
        "leaving",
        {"left_on": "2026-07-10", "destination": "Het Lyceum"},
        on=date(2026, 7, 10),
    ) == ["pupil_left_school"]

    shown = staff.trajectory(sem)
    assert shown["final_advice"]["advice"]["code"] == "VMBO_GL/TL_TM_HAVO"
    assert shown["final_advice"]["basis"] == "objection_granted"
    assert shown["okr_conversation_on"] == "2026-04-02"
    assert shown["registered_with_duo"] == ["final"]
    assert shown["left_on"] == "2026-07-10"


def test_a_groep_7_pupil_gets_an_orientation_advice_and_moves_to_groep_8(staff: Staff) -> None:
    lin = staff.pupil(groep=7)
    assert staff.record(
        lin,
        "orientation-advice",
        {"advice": "havo", "given_on": "2026-03-02"},
        on=date(2026, 3, 2),
    ) == ["orientation_advice_given"]
    assert staff.record(
        lin,
        "groep-8",
        {"school_year": "2026-2027", "entered_on": "2026-08-24"},
        on=date(2026, 8, 24),
    ) == ["pupil_entered_groep_8"]
    shown = staff.trajectory(lin)
    assert (shown["groep"], shown["school_year"]) == (8, "2026-2027")
    assert shown["orientation_advice"]["advice"]["label"] == "havo"


def test_exemption_is_school_staff_work_and_keeps_the_voorlopig_advies(staff: Staff) -> None:
    ben = staff.pupil()
    exemption = {"ground": "newcomer", "decided_on": "2025-10-15", "parents_consulted": True}
    refused = staff.post(ben, "exemption", exemption, on=date(2025, 10, 15))
    assert refused.status_code == 403
    assert "vrijstelling" in refused.json()["detail"]
    assert staff.record(ben, "exemption", exemption, on=date(2025, 10, 15), by=Role.IB) == [
        "exemption_granted"
    ]
    assert staff.trajectory(ben)["test"]["exemption"] == "newcomer"


def test_a_pupil_who_missed_the_test_gets_a_catch_up_or_else_no_result(staff: Staff) -> None:
    eva = staff.pupil()
    staff.provisional(eva, "vmbo-k")
    assert staff.record(
        eva, "test-absence", {"missed_on": "2026-02-03", "reason": "ziek"}, on=date(2026, 2, 3)
    ) == ["test_missed"]
    assert staff.record(
        eva, "catch-up-test", {"planned_on": "2026-02-24"}, on=date(2026, 2, 9)
    ) == ["catch_up_test_planned"]
    shown = staff.trajectory(eva)["test"]
    assert (shown["missed"], shown["catch_up_planned_on"]) == (True, "2026-02-24")
    assert staff.record(
        eva,
        "no-test-result",
        {"recorded_on": "2026-03-02", "reason": "Langdurig ziek."},
        on=date(2026, 3, 2),
    ) == ["no_test_result_recorded", "final_advice_given"]
    assert staff.trajectory(eva)["final_advice"]["basis"] == "no_test_result"


HELD = {"outcome": "held", "held_on": "2026-03-16", "attendees": ["parents", "pupil"]}


@pytest.mark.parametrize(
    ("talk", "what", "body", "status", "code", "field"),
    [
        # the law: a definitief advies never lower than the voorlopig one
        (
            HELD,
            "reconsideration/decision",
            {"outcome": "raise", "advice": "vmbo-gt", "decided_on": "2026-03-17"},
            422,
            "raise_not_higher",
            "advice",
        ),
        # the school's conversation setting (on by default): no decision before the talk
        (
            None,
            "reconsideration/decision",
            {"outcome": "raise", "advice": "havo/vwo", "decided_on": "2026-03-17"},
            422,
            "conversation_not_held",
            None,
        ),
        (
            None,
            "reconsideration/decision",
            {
                "outcome": "keep",
                "decided_on": "2026-03-17",
                "reason": "work_attitude",
                "motivation": "Zelfstandig plannen lukt nog niet.",
            },
            422,
            "conversation_not_held",
            None,
        ),
        # keeping the advice needs a motivation (refused by the schema already)
        (
            None,
            "reconsideration/decision",
            {"outcome": "keep", "decided_on": "2026-03-17", "reason": "other"},
            422,
            "validation_failed",
            "keep.motivation",
        ),
        (
            None,
            "reconsideration/conversation",
            {"planned_at": "2026-03-16T15:00:00"},
            422,
            "validation_failed",
            "planned_at",
        ),  # no time zone
        (
            None,
            "reconsideration/conversation/outcome",
            {"outcome": "maybe"},
            422,
            "validation_failed",
            None,
        ),
        # a definitief advies waits for the heroverweging's decision
        (
            HELD,
            "final-advice",
            {"given_on": "2026-03-17"},
            422,
            "reconsideration_not_decided",
            None,
        ),
        (  # parents may ask for a higher advice, never a lower one
            None,
            "objections",
            {
                "received_on": "2026-03-17",
                "summary": "Liever vmbo-gt.",
                "requested_advice": "vmbo-gt",
            },
            422,
            "objection_cannot_lower",
            "requested_advice",
        ),
        (
            None,
            "objections/nope/decision",
            {"decided_on": "2026-03-17", "granted": False, "motivation": "Nee."},
            403,
            "forbidden",
            None,
        ),  # the teacher decides no request
    ],
)
def test_a_refused_command_says_why_and_stores_nothing(
    staff: Staff,
    talk: dict[str, Any] | None,
    what: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    pupil = staff.pupil()
    staff.provisional(pupil, "havo")
    staff.test_result(pupil, TestAdvice.HAVO_VWO, date(2026, 3, 10))
    if talk is not None:
        staff.record(pupil, "reconsideration/conversation/outcome", talk, on=date(2026, 3, 16))
    before = staff.version(pupil)

    response = staff.post(pupil, what, body, on=date(2026, 3, 17))

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    if field is not None:
        assert field in {error["field"] for error in problem.get("errors", [])} | {
            problem.get("field")
        }, problem
    assert problem["title"]  # Dutch, for people
    assert staff.version(pupil) == before


def test_a_retried_request_for_a_new_advice_records_one_request_with_one_id(staff: Staff) -> None:
    pupil = staff.pupil()
    staff.provisional(pupil, "havo")
    body = {"received_on": "2026-01-20", "summary": "Ouders vragen havo/vwo."}
    headers = {"Idempotency-Key": "verzoek-7"}
    first = staff.post(pupil, "objections", body, on=date(2026, 1, 20), headers=headers)
    again = staff.post(pupil, "objections", body, on=date(2026, 1, 20), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert staff.version(pupil) == 3  # enrolled, advice, one request
