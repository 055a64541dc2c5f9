"""Separated parents through the heroverweging conversation API (what the pupil page's forms
post too): a plan gives each parent a talk (the time given for one, the planner's for the
other), and held or declined settles one parent's talk at a time — the trajectory records the
conversation as held only with the last one, and the decision waits until then."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from service.accounts.roles import Role
from service.bootstrap import Container
from service.scheduling import views
from service.store.schema import parents
from tests.conftest import Clock
from tests.e2e.test_scheduling import School8A, at
from tests.integration.test_scheduling_rounds import set_policy
from workflows.conversations import TalkStatus
from workflows.policy import SchoolPolicy, TalkSettings


@pytest.fixture
def school(container: Container, clock: Clock) -> Iterator[School8A]:
    s = School8A(container, clock)
    set_policy(container, SchoolPolicy(reconsideration_talk=TalkSettings(separate_parents=True)))
    yield s
    s.close()


def test_each_parent_s_talk_is_planned_and_settled_in_turn(school: School8A) -> None:
    pupil = school.pupil("moeder@thuis.nl")
    with school.container.engine.begin() as conn:
        conn.execute(
            parents.insert().values(
                id=str(uuid.uuid4()), pupil_id=pupil, name="Vader", email="vader@elders.nl"
            )
        )
    teacher = school.ids[Role.LEERKRACHT]
    school.publish(teacher, (at(17, 15), at(17, 15, 30)), (at(18, 13), at(18, 17)))
    planned = school.plan(pupil, at(17, 15).isoformat())
    assert planned.status_code == 201, planned.text
    assert planned.json()["event_types"] == ["reconsideration_conversation_planned"]
    rows = views.for_pupil(school.container.engine, pupil)
    assert [r.status for r in rows] == [TalkStatus.PROPOSED, TalkStatus.PROPOSED]
    assert sorted(r.start for r in rows if r.start)[0] == at(17, 15)

    school.clock.now = at(18, 18)
    client = school.clients[Role.LEERKRACHT]
    outcome = f"/api/v1/pupils/{pupil}/reconsideration/conversation/outcome"
    held = {"outcome": "held", "held_on": "2026-03-17", "attendees": ["parents", "teacher"]}
    first = client.post(outcome, json=held)
    assert first.status_code == 201, first.text
    assert first.json()["event_types"] == []  # the other parent's talk is still open
    keep = {
        "outcome": "keep",
        "decided_on": "2026-03-18",
        "reason": "other",
        "motivation": "De school en de ouders zien havo als de beste plek.",
    }
    decision = f"/api/v1/pupils/{pupil}/reconsideration/decision"
    refused = client.post(decision, json=keep)
    assert refused.status_code in (409, 422), refused.text
    assert "conversation_not_held" in refused.text
    declined = client.post(outcome, json={"outcome": "declined", "declined_on": "2026-03-18"})
    assert declined.status_code == 201, declined.text
    assert declined.json()["event_types"] == ["reconsideration_conversation_held"]
    assert client.post(decision, json=keep).status_code == 201
