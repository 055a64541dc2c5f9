"""The talk's rules around the domain, without a database: the latest end leaves working days
for the decision, the family key is the same for siblings whatever the order or case of the
addresses, a talk falls on a working day in school hours, a heroverweging talk's events become
the trajectory's own conversation commands, and directie's warning names no pupil."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.scheduling.escalation import escalation_mail
from service.scheduling.fitting import school_hours
from service.scheduling.link import trajectory_commands
from service.scheduling.requests import (
    end_of_day,
    family_key,
    latest_end,
    working_days_after,
    working_days_before,
)
from workflows.codec import PersonalText
from workflows.commands import (
    CancelConversation,
    MoveConversation,
    PlanConversation,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.conversations import (
    ParentsDeclined,
    TalkCancelled,
    TalkHeld,
    TalkKind,
    TalkMoved,
    TalkPlanned,
    TalkRequested,
)
from workflows.enums import ConversationParty
from workflows.lifecycle import ConversationStatus, Status
from workflows.policy import TalkSettings
from workflows.trajectory import Trajectory

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 12, 9, tzinfo=AMS)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=AMS)


def test_the_latest_end_leaves_working_days_before_the_deadline_weekends_off() -> None:
    tuesday = date(2026, 3, 24)
    assert end_of_day(tuesday) == datetime(2026, 3, 25, tzinfo=AMS)
    assert latest_end(tuesday, TalkSettings(margin_working_days=0)) == datetime(
        2026, 3, 25, tzinfo=AMS
    )
    assert latest_end(tuesday, TalkSettings(margin_working_days=1)) == datetime(
        2026, 3, 24, tzinfo=AMS
    )
    assert latest_end(tuesday, TalkSettings(margin_working_days=2)) == datetime(
        2026, 3, 21, tzinfo=AMS
    )
    assert working_days_before(date(2026, 3, 23), 1) == date(2026, 3, 20)  # Monday → Friday


def test_a_working_day_after_friday_afternoon_is_monday_afternoon() -> None:
    assert working_days_after(at(13, 15), 1) == at(16, 15)
    assert working_days_after(at(12, 9), 1) == at(13, 9)


def test_siblings_share_a_family_key_whatever_the_order_and_case_of_the_addresses() -> None:
    one = family_key(["Moeder@Thuis.nl", "vader@elders.nl"], "pupil-1")
    other = family_key(["vader@elders.nl ", "moeder@thuis.nl", None], "pupil-2")
    assert one == other
    assert family_key(["moeder@thuis.nl"], "pupil-1") != one
    assert family_key([None, ""], "pupil-1") == "pupil-1"


def test_a_talk_falls_on_a_working_day_between_seven_and_nine() -> None:
    assert school_hours("t", at(16, 15), at(16, 15, 30)) == []
    assert school_hours("t", at(16, 20, 30), at(16, 21)) == []
    [sunday] = school_hours("t", at(15, 23, 30), at(16, 0))
    assert sunday.code == "outside_school_hours"
    assert "werkdag" in sunday.message
    assert school_hours("t", at(16, 20, 45), at(16, 21, 15))  # ends after nine
    assert school_hours("t", at(16, 6, 30), at(16, 7))  # starts before seven


REQUEST = TalkRequested(
    kind=TalkKind.RECONSIDERATION,
    pupil_id="p",
    school_id="s",
    school_year="2025-2026",
    round_key="reconsideration",
    deadline=datetime(2026, 3, 25, tzinfo=AMS),
    latest_end=datetime(2026, 3, 24, tzinfo=AMS),
    minutes=30,
    staff=("t",),
    staff_any=(),
    with_pupil=False,
    online=False,
    family="f",
    parents=(),
    requested_on=NOW,
)
OPEN = Trajectory(status=Status.RECONSIDERATION_REQUIRED)


def planned(start: datetime) -> TalkPlanned:
    return TalkPlanned(
        start=start,
        end=start + timedelta(minutes=30),
        room=None,
        staff=("t",),
        by_planner=True,
        sequence=0,
        planned_on=NOW,
    )


def test_a_plan_is_the_trajectory_s_plan_and_a_later_one_its_move() -> None:
    assert trajectory_commands(OPEN, REQUEST, [planned(at(17, 15))], NOW) == [
        PlanConversation(planned_at=at(17, 15), with_pupil=False)
    ]
    already = Trajectory(
        status=Status.RECONSIDERATION_REQUIRED,
        conversation=ConversationStatus.PLANNED,
        conversation_planned_at=at(17, 15),
    )
    moved = TalkMoved(
        start=at(18, 15),
        end=at(18, 15, 30),
        room=None,
        staff=("t",),
        reason=PersonalText("ziek"),
        sequence=1,
        asked_by_parents=False,
        moved_on=NOW,
    )
    assert trajectory_commands(already, REQUEST, [moved], NOW) == [
        MoveConversation(planned_at=at(18, 15), reason="ziek")
    ]
    assert trajectory_commands(already, REQUEST, [planned(at(17, 15))], NOW) == []


def test_cancel_held_and_declined_echo_only_while_the_heroverweging_is_open() -> None:
    already = Trajectory(
        status=Status.RECONSIDERATION_REQUIRED, conversation=ConversationStatus.PLANNED
    )
    cancelled = TalkCancelled(reason=PersonalText("weg"), sequence=1, cancelled_on=NOW)
    assert trajectory_commands(already, REQUEST, [cancelled], NOW) == [
        CancelConversation(cancelled_on=date(2026, 3, 12), reason="weg")
    ]
    held = TalkHeld(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,), notes=None)
    assert trajectory_commands(OPEN, REQUEST, [held], NOW) == [
        RecordConversationHeld(
            held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,), notes=None
        )
    ]
    declined = ParentsDeclined(parent_id="o", on=NOW, message=None)
    assert trajectory_commands(OPEN, REQUEST, [declined], NOW) == [
        RecordConversationDeclined(declined_on=date(2026, 3, 12), notes=None)
    ]
    left = Trajectory(status=Status.LEFT_SCHOOL, conversation=ConversationStatus.PLANNED)
    assert trajectory_commands(left, REQUEST, [cancelled, held, declined], NOW) == []


def test_directie_s_warning_names_the_class_the_reason_and_the_last_day_not_the_pupil() -> None:
    subject, body = escalation_mail(
        {
            "name": "Dirk",
            "class_name": "8A",
            "school_name": "De Eerste School",
            "kind": "heroverwegingsgesprek",
            "round": "reconsideration",
            "message": "De ouders hebben 2 dagen na de uitnodiging nog niet gereageerd.",
            "deadline": datetime(2026, 3, 25, tzinfo=AMS).isoformat(),
            "pupil_id": "p-1",
        },
        "https://advies.example/",
    )
    assert subject == "Gesprek in gevaar: een leerling van groep 8A"
    assert "nog niet gereageerd" in body
    assert "uiterlijk 24-03-2026" in body
    assert "https://advies.example/gesprekken/risico" in body
    assert "https://advies.example/leerlingen/p-1" in body
