"""The talk use cases on SQLite and PostgreSQL: a heroverweging talk is requested once, planned
and moved only at times the planner's rules allow (the reason in Dutch otherwise, nothing
stored), its events, read-model row, outbox messages and the trajectory's own conversation
event commit together, free text is sealed with the pupil's key, and the read model rebuilt from
the log equals the live one."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from service.accounts.roles import Role, Scope
from service.audit.verify import verify
from service.bootstrap import Container
from service.projections.rebuild import rebuild as rebuild_named
from service.projections.talks import rebuild
from service.scheduling import availability, views
from service.scheduling.talks import PlanningRefused
from service.schools.register import Pupil, School
from service.shared.context import Actor, CommandContext
from service.store.events import ConcurrencyError
from service.store.personal import ERASED
from service.store.schema import events, outbox, parents, talks, trajectories
from service.store.streams import trajectory_stream
from tests.conftest import Clock, enrolled_pupil
from workflows.availability import PublishedWindow
from workflows.commands import GiveProvisionalAdvice, ReceiveTestResult
from workflows.conversations import InvitationKind, Period, TalkKind, TalkStatus, talk_stream
from workflows.enums import ConversationParty
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice, TestAdvice

AMS = ZoneInfo("Europe/Amsterdam")
SCHOOL = School("school-1", "01AA", "De Eerste School")
CTX = CommandContext(actor=Actor("leerkracht-1", "leerkracht"))
PARENT = CommandContext(actor=Actor("parent-1", "ouder"))


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


def staff(container: Container) -> dict[str, str]:
    """A teacher of 8A, an IB and a directie account; their user ids by role."""
    container.register.add_school(SCHOOL)
    people = [
        ("juf@school.nl", "Juf Anna", Role.LEERKRACHT, [Scope(SCHOOL.id, "8A")]),
        ("ib@school.nl", "Ina de IB", Role.IB, [Scope(SCHOOL.id)]),
        ("dir@school.nl", "Dirk Directie", Role.DIRECTIE, [Scope(SCHOOL.id)]),
    ]
    ids = {}
    for email, name, role, scopes in people:
        ids[role.value] = container.accounts.add_user(email, name, role, scopes, None).user_id
    return ids


def pupil_in_heroverweging(
    container: Container, clock: Clock, emails: tuple[str, ...] = ("ouder@thuis.nl",)
) -> str:
    """A pupil of 8A with parents, whose toetsadvies (vwo) came in above havo on 12 March."""
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Noor", "de Vries", "8A"))
    with container.engine.begin() as conn:
        for n, email in enumerate(emails):
            conn.execute(
                parents.insert().values(
                    id=parent_id(str(pupil), n), pupil_id=str(pupil), name=f"Ouder {n}", email=email
                )
            )
    container.trajectories.execute(
        pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX
    )
    clock.now = at(12, 9)
    container.trajectories.execute(
        pupil,
        ReceiveTestResult(
            provider="IEP",
            delivery_id=f"d-{pupil}",
            test_advice=TestAdvice.VWO,
            received_on=date(2026, 3, 12),
        ),
        CTX,
    )
    return str(pupil)


def parent_id(pupil: str, n: int = 0) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{pupil}/{n}"))


def count(container: Container, table: object, *where: object) -> int:
    with container.engine.connect() as conn:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        total: int = conn.execute(query.where(*where)).scalar_one()  # type: ignore[arg-type]
        return total


@pytest.fixture
def world(container: Container, clock: Clock) -> tuple[Container, Clock, str, dict[str, str]]:
    ids = staff(container)
    pupil = pupil_in_heroverweging(container, clock)
    return container, clock, pupil, ids


World = tuple[Container, Clock, str, dict[str, str]]


def test_a_heroverweging_talk_is_requested_once_with_the_school_s_people(world: World) -> None:
    container, _, pupil, ids = world
    first = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    again = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    assert again == first
    assert count(container, events, events.c.stream_id == talk_stream(first)) == 1
    row = views.talk(container.engine, first)
    assert row is not None
    assert row.status is TalkStatus.REQUESTED
    assert row.requested_staff == (ids["leerkracht"],)
    assert row.deadline == datetime(2026, 3, 25, tzinfo=AMS)  # the end of 24 March
    assert row.latest_end == datetime(2026, 3, 24, tzinfo=AMS)  # one working day of margin
    assert row.parents == (parent_id(pupil),)


def test_a_plan_writes_the_talk_and_the_trajectory_s_conversation_together(world: World) -> None:
    container, _, pupil, ids = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), "lokaal 8A", CTX)
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert (row.status, row.start, row.end, row.sequence) == (
        TalkStatus.PROPOSED,
        at(17, 15),
        at(17, 15, 30),
        0,
    )
    assert row.staff == (ids["leerkracht"],)
    with container.engine.connect() as conn:
        conversation = conn.execute(
            select(trajectories.c.conversation).where(
                trajectories.c.stream_id == trajectory_stream(pupil)
            )
        ).scalar_one()
        topics = (
            conn.execute(select(outbox.c.topic).where(outbox.c.stream_id == talk_stream(talk_id)))
            .scalars()
            .all()
        )
    assert conversation == "planned"
    assert topics == ["talk_invitation"]
    assert views.week(container.engine, SCHOOL.id, ids["leerkracht"], date(2026, 3, 16)) == [row]
    assert views.week(container.engine, SCHOOL.id, ids["ib"], date(2026, 3, 16)) == []


def test_a_sunday_night_a_time_after_the_deadline_and_a_double_booking_are_refused(
    world: World,
) -> None:
    container, clock, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    sister = pupil_in_heroverweging(container, clock, ("ander@thuis.nl",))
    other = container.talks.request(sister, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(other, at(17, 15), None, CTX)
    before = count(container, events)
    refusals = {}
    for name, start in (
        ("sunday", at(15, 23, 30)),
        ("april", at(10, 15, month=4)),
        ("double", at(17, 15, 15)),
    ):
        with pytest.raises(PlanningRefused) as refused:
            container.talks.plan(talk_id, start, None, CTX)
        refusals[name] = {r.code for r in refused.value.reasons}
    assert "outside_school_hours" in refusals["sunday"]
    assert "after_deadline" in refusals["april"]
    assert "double_booked_staff" in refusals["double"]
    assert count(container, events) == before
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert row.status is TalkStatus.REQUESTED


def test_a_time_in_the_past_is_refused_by_the_domain(world: World) -> None:
    container, clock, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    with pytest.raises((DomainError, PlanningRefused)):
        container.talks.plan(talk_id, clock.now - timedelta(hours=1), None, CTX)


def test_moving_cancelling_and_holding_follow_the_talk_and_the_trajectory(world: World) -> None:
    container, clock, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    container.talks.parents_accept(talk_id, parent_id(pupil), PARENT)
    container.talks.move(talk_id, at(18, 15), None, "juf is ziek", CTX)
    row = views.talk(container.engine, talk_id)
    assert row is not None
    assert (row.status, row.sequence) == (TalkStatus.PROPOSED, 1)
    clock.now = at(18, 16)
    container.talks.hold(
        talk_id, date(2026, 3, 18), (ConversationParty.PARENTS,), "Noor wil naar het vwo.", CTX
    )
    with pytest.raises(DomainError) as refused:
        container.talks.move(talk_id, at(19, 15), None, "te laat", CTX)
    assert refused.value.code == "talk_not_allowed"
    history = container.talks.history(talk_id)
    assert history[-1].notes == "Noor wil naar het vwo."  # type: ignore[attr-defined]
    with container.engine.connect() as conn:
        stored = conn.execute(
            select(events.c.data).where(
                events.c.stream_id == talk_stream(talk_id), events.c.event_type == "talk_held"
            )
        ).scalar_one()
        conversation = conn.execute(
            select(trajectories.c.conversation).where(
                trajectories.c.stream_id == trajectory_stream(pupil)
            )
        ).scalar_one()
    assert "Noor" not in str(stored)  # sealed with the pupil's key
    assert conversation == "held"


def test_the_talks_read_model_rebuilt_from_the_log_equals_the_live_one(world: World) -> None:
    container, clock, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    container.talks.parents_other_time(talk_id, parent_id(pupil), "liever later", (), (), PARENT)
    sister = pupil_in_heroverweging(container, clock, ("ander@thuis.nl",))
    container.talks.request(sister, TalkKind.RECONSIDERATION, CTX)

    def snapshot() -> list[tuple[object, ...]]:
        with container.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(talks).order_by(talks.c.talk_id))]

    live = snapshot()
    assert rebuild(container.engine) == 2
    assert snapshot() == live
    assert uuid.UUID(talk_id)


def test_erasing_the_pupil_erases_the_talk_s_free_text_and_the_chain_still_verifies(
    world: World,
) -> None:
    container, _, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), None, CTX)
    container.talks.parents_view(talk_id, parent_id(pupil), "Noor is er klaar voor.", PARENT)
    assert container.talks.history(talk_id)[-1].text == "Noor is er klaar voor."  # type: ignore[attr-defined]
    assert container.store.erase_pupil_key(pupil)
    assert container.talks.history(talk_id)[-1].text == ERASED  # type: ignore[attr-defined]
    assert verify(container.store).ok
    assert rebuild_named(container.engine, "talks") == 1  # the rows need no free text


def test_two_people_planning_the_same_teacher_at_once_never_double_book(world: World) -> None:
    container, clock, pupil, _ = world
    sister = pupil_in_heroverweging(container, clock, ("ander@thuis.nl",))
    talks = [container.talks.request(p, TalkKind.RECONSIDERATION, CTX) for p in (pupil, sister)]
    outcomes: list[str] = []

    def plan(talk_id: str) -> None:
        try:
            container.talks.plan(talk_id, at(17, 15), None, CTX)
            outcomes.append("planned")
        except PlanningRefused as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=plan, args=(t,)) for t in talks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["double_booked_staff", "planned"]


def test_parents_who_ask_another_time_get_a_new_proposal_outside_their_unavailable_times(
    world: World,
) -> None:
    container, clock, pupil, ids = world
    publish = availability.publish
    publish(
        container.store,
        clock,
        SCHOOL.id,
        ids["leerkracht"],
        "reconsideration",
        [PublishedWindow(at(17, 14), at(17, 17), "8A")],
        actor="x",
        actor_name="Juf",
        role="leerkracht",
    )
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan_open(SCHOOL.id, CTX)
    first = views.talk(container.engine, talk_id)
    assert first is not None
    assert first.start == at(17, 14)
    busy = Period(start=at(17, 14), end=at(17, 16))
    container.talks.parents_other_time(
        talk_id, parent_id(pupil), "Dan werk ik.", (busy,), (), PARENT
    )
    report = container.talks.plan_open(SCHOOL.id, CTX)
    assert report.planned == [talk_id]
    moved = views.talk(container.engine, talk_id)
    assert moved is not None
    assert (moved.status, moved.sequence) == (TalkStatus.PROPOSED, 1)
    assert moved.start is not None
    assert at(17, 16) <= moved.start


def test_a_talk_that_took_place_before_its_latest_end_is_not_at_risk_once_that_end_passed(
    world: World,
) -> None:
    container, clock, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), "lokaal 8A", CTX)
    container.talks.parents_accept(talk_id, parent_id(pupil), PARENT)
    unplanned = container.talks.request(
        pupil_in_heroverweging(container, clock), TalkKind.RECONSIDERATION, CTX
    )
    row = views.talk(container.engine, talk_id)
    assert row is not None
    clock.now = row.latest_end + timedelta(days=1)

    at_risk = {r.talk_id for r in views.at_risk(container.engine, [SCHOOL.id], clock.now)}
    assert talk_id not in at_risk  # it took place in time; only not recorded as held yet
    assert unplanned in at_risk  # never got a time before its latest end


def test_a_move_on_a_version_from_before_the_invitation_e_mail_is_not_stale(world: World) -> None:
    container, _, pupil, _ = world
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan(talk_id, at(17, 15), "lokaal 8A", CTX)
    seen = container.talks.load(talk_id).version  # the teacher's page
    mailer = Actor("talk-mail", "systeem")
    container.talks.invitation_sent(talk_id, parent_id(pupil), InvitationKind.INVITATION, mailer)

    container.talks.move(talk_id, at(18, 9), None, "juf is ziek", CTX, expected_version=seen)
    assert container.talks.load(talk_id).start == at(18, 9)

    seen = container.talks.load(talk_id).version
    container.talks.parents_view(talk_id, parent_id(pupil), "Wij twijfelen.", PARENT)
    with pytest.raises(ConcurrencyError):  # what the parents said is a real change
        container.talks.move(talk_id, at(18, 10), None, "nog eens", CTX, expected_version=seen)
    assert container.talks.load(talk_id).start == at(18, 9)


def test_parents_who_ask_another_time_without_naming_times_never_get_the_same_time_again(
    world: World,
) -> None:
    container, clock, pupil, ids = world
    availability.publish(
        container.store,
        clock,
        SCHOOL.id,
        ids["leerkracht"],
        "reconsideration",
        [PublishedWindow(at(17, 14), at(17, 17), "8A")],
        actor="x",
        actor_name="Juf",
        role="leerkracht",
    )
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, CTX)
    container.talks.plan_open(SCHOOL.id, CTX)
    container.talks.parents_other_time(talk_id, parent_id(pupil), "Liever later.", (), (), PARENT)

    report = container.talks.plan_open(SCHOOL.id, CTX)

    assert report.planned == [talk_id], report.unplaced
    moved = views.talk(container.engine, talk_id)
    assert moved is not None
    assert moved.status is TalkStatus.PROPOSED
    assert moved.start is not None
    assert moved.start != at(17, 14)
