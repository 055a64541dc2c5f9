"""The talk's domain: given its events, a command gives new events or a Dutch refusal with a
stable code; the status follows the shared machine; the codec stores every event and reads it
back; a repeated reminder, escalation or acceptance decides nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.codec import Event, PersonalText
from workflows.conversations import (
    TALK_CODEC,
    TALK_EVENTS,
    TALK_TRANSITIONS,
    AcceptTalk,
    AskOtherTime,
    CancelTalk,
    DeclineTalk,
    EscalateTalk,
    GiveView,
    HoldTalk,
    InvitationKind,
    MoveTalk,
    ParentsAccepted,
    ParentsDeclined,
    Period,
    PlanTalk,
    RecordInvitation,
    RequestTalk,
    SendReminder,
    TalkCommand,
    TalkHeld,
    TalkKind,
    TalkPlanned,
    TalkStatus,
    decide_talk,
    fold_talk,
)
from workflows.enums import ConversationParty
from workflows.errors import DomainError, InvalidHistoryError

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 12, 9, tzinfo=AMS)
PARENT = "parent-1"
REQUEST = RequestTalk(
    kind=TalkKind.RECONSIDERATION,
    pupil_id="pupil-1",
    school_id="school-1",
    school_year="2025-2026",
    round_key="reconsideration",
    deadline=datetime(2026, 3, 25, tzinfo=AMS),
    latest_end=datetime(2026, 3, 24, tzinfo=AMS),
    minutes=30,
    staff=("teacher-1",),
    parents=(PARENT,),
    family="family-1",
)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=AMS)


def plan(day: int = 17, hour: int = 15) -> PlanTalk:
    return PlanTalk(
        start=at(day, hour),
        end=at(day, hour) + timedelta(minutes=30),
        room="8A",
        staff=("teacher-1",),
    )


def given(*commands: TalkCommand, now: datetime = NOW) -> list[Event]:
    history: list[Event] = []
    for command in (REQUEST, *commands):
        history += decide_talk(history, command, now)
    return history


def refused(history: Sequence[Event], command: TalkCommand, now: datetime = NOW) -> DomainError:
    with pytest.raises(DomainError) as error:
        decide_talk(history, command, now)
    return error.value


def test_a_request_gives_one_event_and_a_talk_waiting_to_be_planned() -> None:
    history = given()
    talk = fold_talk(history)
    assert [e.event_type for e in history] == ["talk_requested"]
    assert (talk.status, talk.sequence, talk.version) == (TalkStatus.REQUESTED, -1, 1)
    assert talk.status.label == "nog in te plannen"
    assert refused(history, REQUEST).code == "talk_already_requested"


def test_the_first_plan_has_sequence_0_and_every_move_and_cancel_one_more() -> None:
    move = MoveTalk(
        start=at(18, 15),
        end=at(18, 15) + timedelta(minutes=30),
        room="8A",
        staff=("teacher-1",),
        reason="juf ziek",
    )
    history = given(plan(), move, CancelTalk(reason="afgezegd"), plan(19, 10))
    sequences = [getattr(e, "sequence", None) for e in history[1:]]
    assert sequences == [0, 1, 2, 3]
    assert fold_talk(history).status is TalkStatus.PROPOSED


def test_a_plan_in_the_past_after_the_deadline_or_ending_before_it_starts_is_refused() -> None:
    history = given()
    assert refused(history, plan(11, 15)).code == "talk_in_past"
    late = PlanTalk(
        start=at(25, 10), end=at(25, 10) + timedelta(minutes=30), room=None, staff=("teacher-1",)
    )
    assert refused(history, late).code == "after_deadline"
    assert "(24-03-2026)" in refused(history, late).message  # the deadline kept as 25 March 00:00
    backwards = PlanTalk(start=at(17, 15), end=at(17, 14), room=None, staff=("teacher-1",))
    assert refused(history, backwards).code == "talk_ends_before_start"


def test_a_held_talk_cannot_be_moved_and_a_cancelled_one_not_accepted() -> None:
    held = given(
        plan(day=12), HoldTalk(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,))
    )
    move = MoveTalk(start=at(18, 15), end=at(18, 16), room=None, staff=(), reason="x")
    error = refused(held, move)
    assert error.code == "talk_not_allowed"
    assert "gevoerd" in error.message
    cancelled = given(plan(), CancelTalk(reason="ziek"))
    assert refused(cancelled, AcceptTalk(parent_id=PARENT)).code == "talk_not_allowed"


def test_parents_accept_once_ask_another_time_with_their_unavailable_times_and_decline() -> None:
    history = given(plan(), AcceptTalk(parent_id=PARENT))
    assert fold_talk(history).status is TalkStatus.ACCEPTED
    assert decide_talk(history, AcceptTalk(parent_id=PARENT), NOW) == []
    busy = Period(start=at(17, 8), end=at(17, 18))
    history += decide_talk(
        history, AskOtherTime(parent_id=PARENT, message="dan werk ik", unavailable=(busy,)), NOW
    )
    talk = fold_talk(history)
    assert (talk.status, talk.unavailable, talk.accepted_by) == (
        TalkStatus.OTHER_TIME_ASKED,
        (busy,),
        frozenset(),
    )
    history += decide_talk(history, DeclineTalk(parent_id=PARENT, message=None), NOW)
    assert fold_talk(history).status is TalkStatus.DECLINED


def test_only_invited_parents_answer() -> None:
    history = given(plan())
    assert refused(history, AcceptTalk(parent_id="stranger")).code == "parent_not_invited"
    assert refused(history, GiveView(parent_id="stranger", text="x")).code == "parent_not_invited"


def test_a_move_needs_a_reason_and_another_time() -> None:
    history = given(plan())
    same = MoveTalk(
        start=at(17, 15),
        end=at(17, 15) + timedelta(minutes=30),
        room="8A",
        staff=("teacher-1",),
        reason="x",
    )
    assert refused(history, same).code == "talk_not_moved"
    silent = MoveTalk(start=at(18, 15), end=at(18, 16), room=None, staff=(), reason="  ")
    assert refused(history, silent).code == "text_missing"


def test_a_heroverweging_talk_is_held_with_the_parents_and_not_in_the_future() -> None:
    history = given(plan(day=12))
    alone = HoldTalk(held_on=date(2026, 3, 12), attendees=(ConversationParty.TEACHER,))
    assert refused(history, alone).code == "conversation_without_parents"
    future = HoldTalk(held_on=date(2026, 3, 13), attendees=(ConversationParty.PARENTS,))
    assert refused(history, future).code == "date_in_future"


def test_a_talk_held_today_in_the_netherlands_is_accepted_while_it_is_still_yesterday_in_utc() -> (
    None
):
    history = given(plan(day=13))
    just_after_midnight = datetime(2026, 3, 12, 23, 30, tzinfo=UTC)  # 13 March 00:30 in Amsterdam
    today = HoldTalk(held_on=date(2026, 3, 13), attendees=(ConversationParty.PARENTS,))
    (held,) = decide_talk(history, today, just_after_midnight)
    assert isinstance(held, TalkHeld)
    tomorrow = HoldTalk(held_on=date(2026, 3, 14), attendees=(ConversationParty.PARENTS,))
    assert refused(history, tomorrow, just_after_midnight).code == "date_in_future"


def test_a_talk_still_planned_for_a_later_day_cannot_be_recorded_as_held_before_it() -> None:
    history = given(plan(day=17))  # on 12 March, for 17 March
    early = HoldTalk(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,))
    error = refused(history, early)
    assert (error.code, error.field) == ("held_before_planned", "held_on")
    assert error.message == (
        "het gesprek staat gepland op 17-03-2026 en kan niet op 12-03-2026 gevoerd zijn; is het "
        "eerder gevoerd, zeg het dan eerst af en leg daarna vast op welke dag het gevoerd is"
    )
    # what the reason says can be done: cancelled, it is recorded as held on its real day
    cancelled = [*history, *decide_talk(history, CancelTalk(reason="eerder gevoerd"), NOW)]
    (held_early,) = decide_talk(cancelled, early, NOW)
    assert isinstance(held_early, TalkHeld)
    assert held_early.held_on == date(2026, 3, 12)
    on_the_day = datetime(2026, 3, 17, 16, tzinfo=AMS)
    (held,) = decide_talk(history, replace(early, held_on=date(2026, 3, 17)), on_the_day)
    assert isinstance(held, TalkHeld)
    moved = MoveTalk(start=at(12, 15), end=at(12, 16), room=None, staff=(), reason="eerder")
    earlier = [*history, *decide_talk(history, moved, NOW)]  # moved to today: held today
    (held,) = decide_talk(earlier, early, NOW)
    assert isinstance(held, TalkHeld)


def test_a_reminder_per_sequence_and_an_escalation_per_cause_are_decided_once() -> None:
    history = given(plan(), SendReminder())
    assert decide_talk(history, SendReminder(), NOW) == []
    escalate = EscalateTalk(code="no_answer", message="De ouders hebben niet gereageerd.")
    history += decide_talk(history, escalate, NOW)
    assert decide_talk(history, escalate, NOW) == []
    talk = fold_talk(history)
    assert talk.risk == "De ouders hebben niet gereageerd."
    history += decide_talk(history, AcceptTalk(parent_id=PARENT), NOW)
    assert fold_talk(history).risk is None  # answered: no longer at risk


def test_a_reminder_needs_a_planned_talk() -> None:
    assert refused(given(), SendReminder()).code == "talk_not_allowed"


def test_invitations_are_recorded_per_sequence_and_parent() -> None:
    history = given(plan(), RecordInvitation(parent_id=PARENT, kind=InvitationKind.INVITATION))
    assert fold_talk(history).invitations == {(0, PARENT, "invitation")}


def test_every_event_is_stored_as_json_and_read_back_unchanged() -> None:
    busy = Period(start=at(17, 8), end=at(17, 18))
    history = given(
        plan(),
        RecordInvitation(parent_id=PARENT, kind=InvitationKind.INVITATION),
        AcceptTalk(parent_id=PARENT),
        AskOtherTime(
            parent_id=PARENT, message="liever later", unavailable=(busy,), preferred=(busy,)
        ),
        MoveTalk(start=at(18, 15), end=at(18, 16), room=None, staff=("t",), reason="ouders"),
        GiveView(parent_id=PARENT, text="Wij zien haar op het vwo."),
        SendReminder(),
        EscalateTalk(code="no_answer", message="x"),
        CancelTalk(reason="ziek"),
        HoldTalk(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,), notes="n"),
    )
    assert {type(e) for e in history} == set(TALK_EVENTS) - {ParentsDeclined}
    for event in history:
        assert TALK_CODEC.decode(*TALK_CODEC.encode(event)) == event
    assert TALK_CODEC.personal_fields("talk_held") == {"notes"}
    assert TALK_CODEC.personal_fields("talk_parents_view_given") == {"text"}


def test_a_history_that_does_not_start_with_its_request_is_invalid() -> None:
    planned = TalkPlanned(
        start=at(17, 15),
        end=at(17, 16),
        room=None,
        staff=(),
        by_planner=False,
        sequence=0,
        planned_on=NOW,
    )
    with pytest.raises(InvalidHistoryError):
        fold_talk([planned])
    with pytest.raises(InvalidHistoryError):
        fold_talk([*given(), ParentsAccepted(parent_id=PARENT, on=NOW, sequence=0)])


def test_the_machine_has_one_transition_per_status_and_trigger() -> None:
    keys = [(t["source"], t["trigger"]) for t in TALK_TRANSITIONS]
    assert len(keys) == len(set(keys))
    assert {t["dest"] for t in TALK_TRANSITIONS} == set(TalkStatus)


GOLDEN = Path(__file__).parents[1] / "golden" / "talk_v1.json"


def test_a_stored_talk_stream_of_the_first_version_replays_into_today_s_talk() -> None:
    stored = json.loads(GOLDEN.read_text(encoding="utf-8"))["events"]
    history = [TALK_CODEC.decode(e["event_type"], e["schema_version"], e["data"]) for e in stored]
    talk = fold_talk(history)
    assert talk.status is TalkStatus.HELD
    assert (talk.version, talk.sequence) == (11, 1)
    assert talk.start == datetime(2026, 3, 18, 15, tzinfo=AMS)
    assert talk.staff == ("teacher-1", "ib-1")
    assert talk.requested.staff_any == (("ib-1", "ib-2"),)
    assert talk.unavailable == (
        Period(
            start=datetime(2026, 3, 17, 8, tzinfo=AMS), end=datetime(2026, 3, 17, 18, tzinfo=AMS)
        ),
    )
    assert talk.invitations == {(0, PARENT, "invitation"), (1, PARENT, "update")}
    assert talk.escalations == {"no_answer"}
    assert history[-1] == TalkHeld(
        held_on=date(2026, 3, 18),
        attendees=(ConversationParty.PARENTS, ConversationParty.PUPIL),
        notes=PersonalText("Afgesproken: vwo."),
    )
