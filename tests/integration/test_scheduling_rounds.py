"""The talks' process manager and the worker's round on SQLite and PostgreSQL: the planner places
a requested talk in the published availability (a duo: whoever works that day), siblings share
their family and never get the same hour, separated parents get a talk each, directie is warned
once when the parents do not answer or no slot before the deadline remains, and the
trajectory's guard waits for the talk: the decision is refused until it was held or declined."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.scheduling import availability, views
from service.scheduling.loop import NO_ANSWER, NO_SLOT, TalkRounds
from service.scheduling.rounds import RoundOutcome
from service.store.schema import events, trajectories
from service.store.streams import trajectory_stream
from tests.conftest import Clock
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
from workflows.calendar import SchoolYear
from workflows.commands import KeepAdvice, ReceiveTestResult, RecordLeaving
from workflows.conversations import TalkKind, TalkStatus
from workflows.enums import ConversationParty, KeepReason
from workflows.errors import DomainError
from workflows.policy import SchoolPolicy, TalkSettings
from workflows.scale import TestAdvice

YEAR = SchoolYear(2025)


def publish(
    container: Container, clock: Clock, person: str, *windows: tuple[datetime, datetime]
) -> None:
    availability.publish(
        container.store,
        clock,
        SCHOOL.id,
        person,
        "reconsideration",
        [PublishedWindow(start, end, "lokaal 8A") for start, end in windows],
        actor=person,
        actor_name="Juf",
        role="leerkracht",
    )


def escalations(container: Container, code: str) -> int:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(events.c.data).where(events.c.event_type == "talk_escalated")
        ).scalars()
        return sum(1 for data in rows if data["code"] == code)


def set_policy(container: Container, policy: SchoolPolicy) -> None:
    settings = container.policies.settings(SCHOOL.id)
    container.policies.change(
        SCHOOL.id,
        YEAR,
        policy,
        user_id="d",
        user_name="Dirk",
        role="directie",
        expected_version=settings.version,
    )


def test_the_planner_places_a_duo_s_talk_with_the_teacher_who_works_that_day(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)
    duo = container.accounts.add_user(
        "duo@school.nl", "Meester Bram", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]
    ).user_id
    pupil = pupil_in_heroverweging(container, clock)
    publish(container, clock, duo, (at(18, 13), at(18, 16)))  # only the duo partner, Wednesday
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert row.requested_staff_any == (tuple(sorted((ids["leerkracht"], duo))),)
    report = container.talks.plan_open(SCHOOL.id, CTX)
    assert report.planned == [talk_id]
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert row.staff == (duo,)
    assert row.start is not None
    assert at(18, 13) <= row.start < at(18, 16)
    assert row.room == "lokaal 8A"


def test_siblings_share_their_family_and_never_get_the_same_hour(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)
    noor = pupil_in_heroverweging(container, clock, ("Ouder@Thuis.nl", "tweede@thuis.nl"))
    sam = pupil_in_heroverweging(container, clock, ("tweede@thuis.nl", "ouder@thuis.nl"))
    publish(container, clock, ids["leerkracht"], (at(17, 14), at(17, 15)))  # room for two talks
    first = container.talks.request(noor, TalkKind.RECONSIDERATION, CTX)
    second = container.talks.request(sam, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan_open(SCHOOL.id, CTX)
    a, b = views.talk(container.engine, first), views.talk(container.engine, second)
    assert a is not None
    assert b is not None
    assert a.family == b.family
    assert {a.start, b.start} == {at(17, 14), at(17, 14, 30)}


def test_separated_parents_get_a_talk_each_when_the_school_says_so(
    container: Container, clock: Clock
) -> None:
    staff(container)
    set_policy(container, SchoolPolicy(reconsideration_talk=TalkSettings(separate_parents=True)))
    pupil = pupil_in_heroverweging(container, clock, ("moeder@thuis.nl", "vader@elders.nl"))
    ids = container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX)
    assert len(ids) == 2
    rows = [views.talk(container.engine, t) for t in ids]
    assert sorted(r.parents for r in rows if r) == sorted(
        [(parent_id(pupil, 0),), (parent_id(pupil, 1),)]
    )
    assert container.talks.request_all(pupil, TalkKind.RECONSIDERATION, CTX) == ids


def test_directie_is_warned_once_when_parents_do_not_answer_in_time(
    container: Container, clock: Clock
) -> None:
    staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(19, 15), None, CTX)  # proposed on Thursday 12 March, 9:00
    rounds = TalkRounds(container.talks)
    clock.now = at(14, 8, 59)
    rounds()
    assert escalations(container, NO_ANSWER) == 0
    clock.now = at(14, 9, 1)  # two days without an answer
    rounds()
    rounds()
    assert escalations(container, NO_ANSWER) == 1
    [risky] = views.at_risk(container.engine, {SCHOOL.id}, clock.now)
    assert risky.talk_id == talk_id
    container.talks.parents_accept(talk_id, parent_id(pupil), PARENT)
    assert views.at_risk(container.engine, {SCHOOL.id}, clock.now) == []


def test_directie_is_warned_once_when_no_slot_before_the_deadline_remains(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    publish(container, clock, ids["leerkracht"], (at(25, 14), at(25, 17)))  # after the deadline
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    rounds = TalkRounds(container.talks)
    rounds()
    rounds()
    assert escalations(container, NO_SLOT) == 1
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert row.status is TalkStatus.REQUESTED
    assert row.at_risk_reason


def test_the_decision_waits_for_the_talk_and_follows_it_once_held(
    container: Container, clock: Clock
) -> None:
    staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    keep = KeepAdvice(
        decided_on=date(2026, 3, 18), reason=KeepReason.WORK_ATTITUDE, motivation="Nog niet."
    )
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    clock.now = at(18, 9)
    with pytest.raises(DomainError):
        container.trajectories.execute(pupil, keep, CTX)  # type: ignore[arg-type]
    container.talks.hold(talk_id, date(2026, 3, 17), (ConversationParty.PARENTS,), None, CTX)
    result = container.trajectories.execute(pupil, keep, CTX)  # type: ignore[arg-type]
    assert result.event_types == ["advice_kept"]


def test_parents_who_decline_settle_the_trajectory_s_conversation_too(
    container: Container, clock: Clock
) -> None:
    staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    container.talks.parents_decline(talk_id, parent_id(pupil), "Wij zien er geen nut in.", PARENT)
    with container.engine.connect() as conn:
        conversation = conn.execute(
            select(trajectories.c.conversation).where(
                trajectories.c.stream_id == trajectory_stream(pupil)
            )
        ).scalar_one()
    assert conversation == "declined"


def test_a_lapsed_heroverweging_cancels_its_talk_and_a_new_one_gets_a_talk_of_its_own(
    container: Container, clock: Clock
) -> None:
    staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    worker = container.outbox_worker()

    def work() -> None:
        while worker.run_once():
            pass

    def result(advice: TestAdvice, delivery: str) -> None:
        container.trajectories.execute(
            pupil,  # type: ignore[arg-type]
            ReceiveTestResult(
                provider="IEP",
                delivery_id=delivery,
                test_advice=advice,
                received_on=date(2026, 3, 12),
            ),
            CTX,
        )

    work()
    [first] = views.for_pupil(container.engine, pupil)
    assert first.status is TalkStatus.REQUESTED
    result(TestAdvice.VMBO_GLTL_HAVO, "d-replaced")  # a corrected result, no longer higher
    work()
    [lapsed] = views.for_pupil(container.engine, pupil)
    assert lapsed.status is TalkStatus.CANCELLED
    result(TestAdvice.VWO, "d-again")  # higher again: a new heroverweging
    work()
    talks = {t.talk_id: t.status for t in views.for_pupil(container.engine, pupil)}
    assert talks[first.talk_id] is TalkStatus.CANCELLED
    assert sorted(s.value for s in talks.values()) == ["cancelled", "requested"]


def test_a_pupil_who_leaves_school_has_the_planned_talk_cancelled_once(
    container: Container, clock: Clock
) -> None:
    staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    container.trajectories.execute(pupil, RecordLeaving(left_on=date(2026, 3, 12)), CTX)  # type: ignore[arg-type]
    worker = container.outbox_worker()
    while worker.run_once():
        pass
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert (row.status, row.sequence) == (TalkStatus.CANCELLED, 1)  # the parents get a CANCEL
    with container.engine.connect() as conn:
        cancelled = conn.execute(
            select(func.count()).select_from(events).where(events.c.event_type == "talk_cancelled")
        ).scalar_one()
    assert cancelled == 1


def test_no_slot_is_not_claimed_while_the_teacher_has_not_published_yet(
    container: Container, clock: Clock
) -> None:
    ids = staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    publish(container, clock, ids["ib"], (at(17, 14), at(17, 17)))  # someone else published
    container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    TalkRounds(container.talks)()
    assert escalations(container, NO_SLOT) == 0


def test_the_outcome_counts_in_dutch_one_and_more() -> None:
    one = RoundOutcome("OKR", planned=["Noor"], already=["Sem"], unplaced=[("Eva", "geen tijd")])
    assert one.heading == "1 gesprek ingepland voor OKR; 1 stond al gepland; 1 niet ingepland."
    more = RoundOutcome("OKR", already=["Noor", "Sem"])
    assert more.heading == "0 gesprekken ingepland voor OKR; 2 stonden al gepland."
