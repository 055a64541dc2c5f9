"""Separated parents, on SQLite and PostgreSQL: when the school's setting gives each parent a
heroverweging talk of their own, every path requests and plans one talk per parent (the
conversation API too, idempotently), and the trajectory's conversation counts as held only once
every one of those talks is held or declined by its parent (one held and the other declined is
held; a talk the school cancelled is not settled)."""

from __future__ import annotations

import threading
from datetime import date
from uuid import UUID

import pytest
from sqlalchemy import select

from service.bootstrap import Container
from service.scheduling import availability, views
from service.store.schema import events, trajectories
from service.store.streams import trajectory_stream
from tests.conftest import Clock
from tests.integration.test_scheduling_rounds import set_policy
from tests.integration.test_scheduling_talks import (
    CTX,
    PARENT,
    SCHOOL,
    at,
    parent_id,
    pupil_in_heroverweging,
    staff,
)
from workflows.availability import PublishedWindow
from workflows.commands import (
    CancelConversation,
    KeepAdvice,
    PlanConversation,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.conversations import TalkHeld, TalkKind, TalkStatus
from workflows.enums import ConversationParty, KeepReason
from workflows.errors import DomainError
from workflows.events import ConversationHeld as Held
from workflows.policy import SchoolPolicy, TalkSettings

PARENTS = (ConversationParty.PARENTS, ConversationParty.TEACHER)


def keep(on: date) -> KeepAdvice:
    return KeepAdvice(
        decided_on=on,
        reason=KeepReason.OTHER,
        motivation="De ouders en de school zien havo als de beste plek.",
    )


def separated(container: Container, clock: Clock) -> tuple[str, dict[str, str]]:
    ids = staff(container)
    policy = SchoolPolicy(reconsideration_talk=TalkSettings(separate_parents=True))
    set_policy(container, policy)
    return pupil_in_heroverweging(container, clock, ("moeder@thuis.nl", "vader@elders.nl")), ids


def conversation(container: Container, pupil: str) -> str:
    with container.engine.connect() as conn:
        found: str = conn.execute(
            select(trajectories.c.conversation).where(
                trajectories.c.stream_id == trajectory_stream(pupil)
            )
        ).scalar_one()
    return found


def trajectory_types(container: Container, pupil: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(
            conn.execute(
                select(events.c.event_type)
                .where(events.c.stream_id == trajectory_stream(pupil))
                .order_by(events.c.stream_version)
            ).scalars()
        )


def invited(container: Container, talk_id: str) -> str:
    row = views.talk(container.engine, talk_id)
    assert row is not None
    return row.parents[0]


def keep_is_refused(container: Container, clock: Clock, pupil: str) -> None:
    with pytest.raises(DomainError) as refused:
        container.trajectories.execute(UUID(pupil), keep(clock.now.date()), CTX)
    assert refused.value.code == "conversation_not_held"


def test_the_conversation_api_plans_a_talk_for_each_parent(
    container: Container, clock: Clock
) -> None:
    pupil, ids = separated(container, clock)
    availability.publish(
        container.store,
        clock,
        SCHOOL.id,
        ids["leerkracht"],
        "reconsideration",
        [
            PublishedWindow(at(17, 15), at(17, 15, 30), "lokaal 8A"),
            PublishedWindow(at(18, 13), at(18, 17), "lokaal 8A"),
        ],
        actor=ids["leerkracht"],
        actor_name="Juf",
        role="leerkracht",
    )
    command = PlanConversation(planned_at=at(17, 15))
    first = container.talks.conversation(pupil, command, CTX, idempotency_key="k1", fingerprint="f")
    again = container.talks.conversation(pupil, command, CTX, idempotency_key="k1", fingerprint="f")
    assert again.stream_version == first.stream_version
    rows = sorted(views.for_pupil(container.engine, pupil), key=lambda r: r.parents)
    assert sorted(r.parents for r in rows) == sorted(
        [(parent_id(pupil, 0),), (parent_id(pupil, 1),)]
    )
    assert all(r.status is TalkStatus.PROPOSED for r in rows)
    starts = sorted(r.start for r in rows if r.start)
    assert starts[0] == at(17, 15)  # the time the API gave, for one parent
    assert at(18, 13) <= starts[1] < at(18, 17)  # the other parent's, by the planner
    assert conversation(container, pupil) == "planned"
    assert trajectory_types(container, pupil).count("reconsideration_conversation_planned") == 1


def test_the_trajectory_is_held_only_when_every_parent_s_talk_is_settled(
    container: Container, clock: Clock
) -> None:
    pupil, _ = separated(container, clock)
    mother, father = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(mother, at(17, 15), None, CTX)
    container.talks.plan(father, at(17, 16), None, CTX)
    assert trajectory_types(container, pupil).count("reconsideration_conversation_moved") == 0
    clock.now = at(17, 16)
    container.talks.hold(mother, date(2026, 3, 17), PARENTS, "Moeder steunt vwo.", CTX)
    assert conversation(container, pupil) == "planned"
    keep_is_refused(container, clock, pupil)
    container.talks.parents_decline(father, invited(container, father), "Geen tijd.", PARENT)
    assert conversation(container, pupil) == "held"
    assert trajectory_types(container, pupil).count("reconsideration_conversation_held") == 1
    container.trajectories.execute(UUID(pupil), keep(clock.now.date()), CTX)


def test_a_talk_the_school_cancelled_is_not_settled(container: Container, clock: Clock) -> None:
    pupil, _ = separated(container, clock)
    mother, father = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(mother, at(17, 15), None, CTX)
    container.talks.plan(father, at(17, 16), None, CTX)
    container.talks.cancel(mother, "juf is ziek", CTX)
    assert conversation(container, pupil) == "planned"  # the father's talk still stands
    clock.now = at(17, 17)
    container.talks.hold(father, date(2026, 3, 17), PARENTS, None, CTX)
    assert conversation(container, pupil) == "planned"
    keep_is_refused(container, clock, pupil)
    container.talks.decline(mother, "Moeder ziet ervan af.", CTX)
    assert conversation(container, pupil) == "held"


def test_both_parents_declining_is_declined(container: Container, clock: Clock) -> None:
    pupil, _ = separated(container, clock)
    mother, father = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.parents_decline(mother, invited(container, mother), None, PARENT)
    assert conversation(container, pupil) == "none"
    container.talks.parents_decline(father, invited(container, father), None, PARENT)
    assert conversation(container, pupil) == "declined"


def test_the_api_records_each_parent_s_talk_in_turn(container: Container, clock: Clock) -> None:
    pupil, _ = separated(container, clock)
    held = RecordConversationHeld(held_on=date(2026, 3, 12), attendees=PARENTS, notes="Eerste.")
    first = container.talks.conversation(pupil, held, CTX, idempotency_key="h1", fingerprint="f")
    assert first.event_types == []
    again = container.talks.conversation(pupil, held, CTX, idempotency_key="h1", fingerprint="f")
    assert again.event_types == []
    statuses = sorted(r.status.value for r in views.for_pupil(container.engine, pupil))
    assert statuses == ["held", "requested"]  # a retried request holds nothing more
    keep_is_refused(container, clock, pupil)
    declined = RecordConversationDeclined(declined_on=date(2026, 3, 12))
    last = container.talks.conversation(pupil, declined, CTX)
    assert last.event_types == ["reconsideration_conversation_held"]
    assert conversation(container, pupil) == "held"


def test_both_parents_declining_at_the_same_moment_settle_the_trajectory(
    container: Container, clock: Clock
) -> None:
    pupil, _ = separated(container, clock)
    talks = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    errors: list[Exception] = []

    def decline(talk_id: str) -> None:
        try:
            container.talks.parents_decline(talk_id, invited(container, talk_id), None, PARENT)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=decline, args=(t,)) for t in talks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert conversation(container, pupil) == "declined"


def test_long_notes_of_both_parents_talks_are_clipped_on_the_trajectory_never_refused(
    container: Container, clock: Clock
) -> None:
    pupil, _ = separated(container, clock)
    mother, father = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(mother, at(17, 15), None, CTX)
    container.talks.plan(father, at(17, 16), None, CTX)
    clock.now = at(17, 17)
    container.talks.hold(mother, date(2026, 3, 17), PARENTS, "m" * 4000, CTX)  # each at its max
    container.talks.hold(father, date(2026, 3, 17), PARENTS, "v" * 4000, CTX)
    assert conversation(container, pupil) == "held"
    [held] = [e for e in container.trajectories.history(UUID(pupil)) if isinstance(e, Held)]
    notes = str(held.notes)
    assert len(notes) == 5000  # what the trajectory takes
    assert notes.startswith("m" * 4000 + "\n\nvvv")
    assert notes.endswith("(ingekort; de volledige tekst staat bij elk gesprek)")
    [whole] = [e for e in container.talks.history(father) if isinstance(e, TalkHeld)]
    assert str(whole.notes) == "v" * 4000  # the talk keeps it whole


def test_a_cancel_through_the_api_keeps_the_trajectory_on_the_other_parent_s_talk(
    container: Container, clock: Clock
) -> None:
    pupil, _ = separated(container, clock)
    mother, father = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(mother, at(17, 15), None, CTX)
    container.talks.plan(father, at(18, 15), None, CTX)
    cancel = CancelConversation(cancelled_on=date(2026, 3, 12), reason="juf is ziek")
    container.talks.conversation(pupil, cancel, CTX)
    assert container.talks.load(mother).status is TalkStatus.CANCELLED
    assert container.talks.load(father).status is TalkStatus.PROPOSED  # still stands
    assert conversation(container, pupil) == "planned"  # at the father's time now
    assert container.trajectories.load(UUID(pupil)).conversation_planned_at == at(18, 15)
