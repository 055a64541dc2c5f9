"""A pupil's full history and the heroverweging worklist over HTTP, both logged as reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.schools.register import Pupil
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.heroverweging import SCHOOL, TEACHER, pupil_with_result
from workflows.commands import KeepAdvice, RecordConversationHeld
from workflows.enums import ConversationParty, KeepReason
from workflows.scale import TestAdvice


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.register.add_school(SCHOOL)
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


def auth(container: Container, role: Role, class_name: str = "") -> dict[str, str]:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@school.nl"
    container.accounts.add_user(email, role.value, role, [Scope(SCHOOL.id, class_name)])
    return {"Authorization": f"Bearer {container.accounts.issue_token(email, 't', 7).token}"}


def test_the_history_shows_who_recorded_what_and_why_in_pages(
    client: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_result(container, clock, "Noor", "8A", TestAdvice.HAVO_VWO)
    held = RecordConversationHeld(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,))
    container.trajectories.execute(pupil, held, TEACHER)
    keep = KeepAdvice(
        decided_on=date(2026, 3, 12),
        reason=KeepReason.OTHER,
        motivation="werkhouding en motivatie wisselend; gesprek met ouders gevoerd",
    )
    container.trajectories.execute(pupil, keep, TEACHER)
    headers = auth(container, Role.DIRECTIE)
    first = client.get(f"/api/v1/pupils/{pupil}/events?limit=3", headers=headers).json()
    assert [e["stream_version"] for e in first["items"]] == [1, 2, 3]
    assert first["next_after"] == 3
    rest = client.get(f"/api/v1/pupils/{pupil}/events?after=3", headers=headers).json()
    assert rest["next_after"] is None
    kept = next(e for e in rest["items"] if e["event_type"] == "advice_kept")
    assert (kept["actor"], kept["role"]) == ("juf-1", "leerkracht")
    assert kept["data"]["motivation"].startswith("werkhouding")
    assert [r[3] for r in reads_of(container.engine, str(pupil))] == ["geschiedenis"] * 2

    container.register.erase_pupil(str(pupil))
    # erased: the pupil is gone from the register, so not even directie finds it any more
    assert client.get(f"/api/v1/pupils/{pupil}/events", headers=headers).status_code == 404
    trail = container.trajectories.audit_trail(pupil)
    assert next(d for e, d in trail if e.event_type == "advice_kept")["motivation"] == "[gewist]"


def test_the_worklist_lists_open_heroverwegingen_soonest_first_for_whom_may_see_them(
    client: TestClient, container: Container, clock: Clock
) -> None:
    higher = pupil_with_result(container, clock, "Noor", "8A", TestAdvice.HAVO_VWO)
    pupil_with_result(container, clock, "Daan", "8A", TestAdvice.VMBO_KB_VMBO_GLTL)  # lower
    other_class = pupil_with_result(container, clock, "Sara", "8B", TestAdvice.VWO)
    url = f"/api/v1/schools/{SCHOOL.id}/reconsiderations"
    ib = client.get(url, headers=auth(container, Role.IB)).json()
    assert [i["name"] for i in ib["items"]] == ["Noor Jansen", "Sara Jansen"]  # not Daan
    assert {i["pupil_id"] for i in ib["items"]} == {str(higher), str(other_class)}
    deadlines = [i["reconsideration_deadline"] for i in ib["items"]]
    assert deadlines == sorted(deadlines)
    assert {i["status"] for i in ib["items"]} == {"reconsideration_required"}
    assert all(i["reconsideration_deadline"] for i in ib["items"])
    assert ib["total"] == 2
    teacher = client.get(url, headers=auth(container, Role.LEERKRACHT, "8A")).json()
    assert [i["name"] for i in teacher["items"]] == ["Noor Jansen"]
    assert "heroverwegingslijst" in [r[3] for r in reads_of(container.engine, str(higher))]


def test_directie_sees_who_read_a_pupils_data_page_by_page_and_nobody_else_does(
    client: TestClient, container: Container, clock: Clock
) -> None:
    pupil = pupil_with_result(container, clock, "Noor", "8A", TestAdvice.HAVO_VWO)
    teacher = auth(container, Role.LEERKRACHT, "8A")
    for _ in range(3):
        assert client.get(f"/api/v1/pupils/{pupil}/trajectory", headers=teacher).status_code == 200
    reads = f"/api/v1/pupils/{pupil}/reads"
    assert client.get(reads, headers=teacher).status_code == 403
    assert client.get(reads, headers=auth(container, Role.IB)).status_code == 403

    directie = auth(container, Role.DIRECTIE)
    first = client.get(f"{reads}?limit=2", headers=directie).json()
    assert [(r["role"], r["what"]) for r in first["items"]] == [("leerkracht", "trajectory")] * 2
    assert first["items"][0]["user_email"].startswith("leerkracht-")
    rest = client.get(f"{reads}?after={first['next_after']}", headers=directie).json()
    # the third teacher read, then directie's own first look at the log
    assert [(r["role"], r["what"]) for r in rest["items"]] == [
        ("leerkracht", "trajectory"),
        ("directie", "toegangslog"),
    ]
    assert rest["next_after"] is None
    assert len(reads_of(container.engine, str(pupil))) == 5


def test_the_class_overview_says_what_is_due_next_and_what_is_overdue(
    client: TestClient, container: Container, clock: Clock
) -> None:
    waiting = pupil_with_result(container, clock, "Noor", "8A", TestAdvice.HAVO_VWO)
    clock.now = datetime(2026, 1, 20, 10, tzinfo=UTC)
    late = enrolled_pupil(container)  # no voorlopig advies yet
    container.register.add_pupil(Pupil(str(late), SCHOOL.id, "Sem", "Bakker", "8A"))
    url = f"/api/v1/schools/{SCHOOL.id}/pupils"

    clock.now = datetime(2026, 2, 2, 10, tzinfo=UTC)  # the voorlopig advies window has closed
    headers = auth(container, Role.DIRECTIE)
    items = {i["pupil_id"]: i for i in client.get(url, headers=headers).json()["items"]}
    assert items[str(late)]["next_deadline"] == {
        "action": "provisional_advice",
        "label": "voorlopig schooladvies geven",
        "due": "2026-01-31",
    }
    assert items[str(late)]["overdue"] is True
    assert items[str(waiting)]["next_deadline"]["action"] == "reconsideration"
    assert items[str(waiting)]["overdue"] is False

    overdue = client.get(url, params={"overdue": "true"}, headers=headers).json()
    assert [i["pupil_id"] for i in overdue["items"]] == [str(late)]
    assert overdue["total"] == 1
