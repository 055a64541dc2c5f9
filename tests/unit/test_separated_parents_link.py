"""The echo of separated parents' talks on the trajectory, without a database: a second parent's
talk planned beside the first changes nothing, the held outcome waits for the last open talk and
then carries every held talk's attendees and notes and the last date, all parents declining is
declined, and a talk the school cancelled keeps the conversation open."""

from __future__ import annotations

from datetime import date

from service.scheduling.link import Other, trajectory_commands
from tests.unit.test_conversations_rules import NOW, OPEN, REQUEST, at, planned
from workflows.codec import PersonalText
from workflows.commands import (
    CancelConversation,
    PlanConversation,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.conversations import (
    ParentsDeclined,
    Talk,
    TalkCancelled,
    TalkHeld,
    TalkStatus,
)
from workflows.enums import ConversationParty
from workflows.lifecycle import ConversationStatus, Status
from workflows.trajectory import Trajectory

P, T, L = ConversationParty.PARENTS, ConversationParty.TEACHER, ConversationParty.PUPIL
SHOWS_MOTHER = Trajectory(
    status=Status.RECONSIDERATION_REQUIRED,
    conversation=ConversationStatus.PLANNED,
    conversation_planned_at=at(17, 15),
)


def other(status: TalkStatus, **kwargs: object) -> Other:
    return Other(Talk(status=status, start=at(17, 15)), **kwargs)  # type: ignore[arg-type]


def held(day: int, *attendees: ConversationParty, notes: str | None = None) -> TalkHeld:
    text = PersonalText(notes) if notes else None
    return TalkHeld(held_on=date(2026, 3, day), attendees=attendees, notes=text)


def test_the_father_s_talk_planned_beside_the_mother_s_changes_nothing() -> None:
    mother = other(TalkStatus.PROPOSED)
    assert (
        trajectory_commands(SHOWS_MOTHER, REQUEST, [planned(at(18, 15))], NOW, Talk(), [mother])
        == []
    )


def test_held_waits_for_the_last_talk_and_carries_every_held_one() -> None:
    mother_open = other(TalkStatus.ACCEPTED)
    assert (
        trajectory_commands(SHOWS_MOTHER, REQUEST, [held(17, P, T)], NOW, Talk(), [mother_open])
        == []
    )
    mother_held = other(TalkStatus.HELD, held=held(16, P, L, notes="Moeder: vwo."))
    assert trajectory_commands(
        SHOWS_MOTHER,
        REQUEST,
        [held(17, P, T, notes="Vader: havo/vwo.")],
        NOW,
        Talk(),
        [mother_held],
    ) == [
        RecordConversationHeld(
            held_on=date(2026, 3, 17),
            attendees=(P, L, T),
            notes="Moeder: vwo.\n\nVader: havo/vwo.",
        )
    ]


def test_declined_by_all_is_declined_and_a_cancelled_talk_is_not_settled() -> None:
    declined = ParentsDeclined(parent_id="v", on=NOW, message=PersonalText("Geen tijd."))
    mother_declined = other(
        TalkStatus.DECLINED, declined=ParentsDeclined(parent_id="m", on=NOW, message=None)
    )
    assert trajectory_commands(OPEN, REQUEST, [declined], NOW, Talk(), [mother_declined]) == [
        RecordConversationDeclined(declined_on=NOW.date(), notes="Geen tijd.")
    ]
    mother_cancelled = other(TalkStatus.CANCELLED)
    assert trajectory_commands(OPEN, REQUEST, [declined], NOW, Talk(), [mother_cancelled]) == []


def test_a_shown_talk_cancelled_shows_the_other_parent_s_instead() -> None:
    mine = Talk(status=TalkStatus.PROPOSED, start=at(17, 15))
    father = Other(Talk(status=TalkStatus.PROPOSED, start=at(18, 15)))
    cancelled = TalkCancelled(reason=PersonalText("ziek"), sequence=1, cancelled_on=NOW)
    assert trajectory_commands(SHOWS_MOTHER, REQUEST, [cancelled], NOW, mine, [father]) == [
        CancelConversation(cancelled_on=date(2026, 3, 12), reason="ziek"),
        PlanConversation(planned_at=at(18, 15), with_pupil=False),
    ]
