"""The talks round looks at a talk again only from the moment `_look_at` names; so whatever a
talk's state and settings, when `_due` asks something of it at some moment, `_look_at`, asked
at any earlier moment, named that moment or an earlier one: no reminder or escalation is missed
by waiting (and a talk it says None for has nothing left to ask)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from service.scheduling import views
from service.scheduling.loop import NO_ANSWER, NO_PROPOSAL, NO_SLOT, _due, _look_at
from workflows.conversations import TalkKind, TalkStatus
from workflows.policy import TalkSettings

BASE = datetime(2026, 3, 9, tzinfo=UTC)
HOURS = st.integers(min_value=0, max_value=24 * 20)


def moment(hours: int) -> datetime:
    return BASE + timedelta(hours=hours)


@st.composite
def talk_rows(draw: st.DrawFn) -> views.TalkRow:
    status = draw(st.sampled_from(list(views.UNSETTLED)))
    requested = draw(HOURS)
    planned = status is not TalkStatus.REQUESTED
    start = moment(draw(HOURS)) if planned else None
    minutes = draw(st.sampled_from([15, 30, 60]))
    return views.TalkRow(
        talk_id="t",
        school_id="s",
        school_year="2025-2026",
        pupil_id="p",
        kind=TalkKind.RECONSIDERATION,
        round_key="reconsideration",
        status=status,
        start=start,
        end=start + timedelta(minutes=minutes) if start else None,
        room=None,
        staff=(),
        requested_staff=("juf",),
        requested_staff_any=(),
        family="f",
        parents=("o",),
        minutes=minutes,
        with_pupil=True,
        online=False,
        deadline=moment(24 * 16),
        latest_end=moment(draw(HOURS)),
        requested_on=moment(requested),
        proposed_on=moment(draw(HOURS)) if planned and draw(st.booleans()) else None,
        answered_on=None,
        sequence=0 if planned else -1,
        reminded=draw(st.booleans()),
        at_risk_reason=None,
        escalations=tuple(draw(st.sets(st.sampled_from([NO_SLOT, NO_PROPOSAL, NO_ANSWER])))),
        version=1,
        position=1,
    )


SETTINGS = st.builds(
    TalkSettings,
    answer_within_days=st.integers(min_value=1, max_value=14),
    reminder_days_before=st.integers(min_value=0, max_value=14),
)


@settings(max_examples=150, deadline=None)
@given(talk_rows(), SETTINGS, HOURS, st.integers(min_value=0, max_value=24 * 10))
def test_nothing_falls_due_before_the_moment_the_round_looks_again(
    row: views.TalkRow, talk: TalkSettings, earlier: int, later: int
) -> None:
    looked = moment(earlier)
    now = looked + timedelta(hours=later, minutes=30)
    if _due(row, talk, now):
        found = _look_at(row, talk, looked)
        assert found is not None
        assert found <= now
