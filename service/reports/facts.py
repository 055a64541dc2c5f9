"""The facts of each groep 8 pupil that the reports count, read set-based: a few statements for
a whole board, never a stream per pupil.

The `trajectories` read model gives each pupil's advices, toetsadvies, definitief advies and
status; the register (`pupils`) the class and the gender. What the trajectory row folds away —
the exemption ground, the heroverweging's outcome, reason and conversation, the advices
registered with DUO — is a `FactState` per pupil, kept by the catch-up read model `report_facts`
(`service.projections.report_facts`, folding with `apply` below). A report reads the rows joined
with the projection's checkpoint in one statement, and folds the few fact events after that
checkpoint on top, so it is as fresh as the log even when the worker is behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache, lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, func, select

from service.store.schema import (
    events,
    projection_checkpoints,
    pupils,
    report_facts,
    trajectories,
)
from workflows.calendar import SchoolYear, legal_calendar
from workflows.enums import AdviceKind, ExemptionGround, KeepReason, Timeliness
from workflows.lifecycle import Status
from workflows.scale import Comparison, SchoolAdvice, TestAdvice, compare

PROJECTION = "report_facts"
STREAM_PREFIX = "trajectory-"
"""A trajectory's stream is its pupil's id after this."""
RAISED_FULLY = "raised_fully"
RAISED_PARTLY = "raised_partly"
KEPT = "kept"

FACT_EVENTS = (
    "exemption_granted",
    "reconsideration_required",
    "reconsideration_lapsed",
    "reconsideration_conversation_held",
    "reconsideration_conversation_declined",
    "advice_raised",
    "advice_kept",
    "national_register_registration_sent",
)
FIELDS = ("ground", "fully", "reason", "timeliness", "kind", "advice")
"""The only fields of the fact events folded here (sealed free text is never read)."""


class FactState(NamedTuple):
    """What the reports need beyond the trajectory row, folded from the fact events."""

    exemption: str | None = None
    hero: bool = False
    """A heroverweging is (or was) open and did not lapse."""
    outcome: str | None = None
    """RAISED_FULLY, RAISED_PARTLY, KEPT, or None while undecided."""
    reason: str | None = None
    decision_late: bool = False
    talk: str | None = None
    """'held' or 'declined' once recorded for this heroverweging."""
    registered_provisional: str | None = None
    """The advice last sent to DUO as the voorlopig advies (DUO's code)."""
    registered_final: str | None = None


EMPTY = FactState()


def apply(state: FactState, event_type: str, data: Mapping[str, Any]) -> FactState:
    """The state after one fact event (other event types change nothing)."""
    if event_type == "exemption_granted":
        return state._replace(exemption=data["ground"])
    if event_type == "reconsideration_required":
        # a replacing delivery while one is open and undecided keeps its conversation
        keep_talk = state.hero and state.outcome is None
        return state._replace(
            hero=True,
            outcome=None,
            reason=None,
            decision_late=False,
            talk=state.talk if keep_talk else None,
        )
    if event_type == "reconsideration_lapsed":
        return state._replace(hero=False, outcome=None, reason=None, decision_late=False, talk=None)
    if event_type == "reconsideration_conversation_held":
        return state._replace(talk="held")
    if event_type == "reconsideration_conversation_declined":
        return state._replace(talk="declined")
    if event_type in ("advice_raised", "advice_kept"):
        if event_type == "advice_kept":
            outcome = KEPT
        else:
            outcome = RAISED_FULLY if data["fully"] else RAISED_PARTLY
        late = data.get("timeliness") == Timeliness.LATE.value
        return state._replace(outcome=outcome, reason=data.get("reason"), decision_late=late)
    if event_type == "national_register_registration_sent":
        if data["kind"] == AdviceKind.PROVISIONAL.value:
            return state._replace(registered_provisional=data["advice"])
        return state._replace(registered_final=data["advice"])
    return state


class Heroverweging(NamedTuple):
    """The pupil's (last, not lapsed) heroverweging: its outcome once decided."""

    outcome: str | None = None
    reason: KeepReason | None = None
    decision_late: bool = False
    talk: str | None = None


class PupilFacts(NamedTuple):
    """One pupil's facts (a named tuple: a board's thousands are built per report)."""

    pupil_id: str
    school_id: str
    class_name: str
    sex: int | None
    status: Status
    provisional: SchoolAdvice | None
    provisional_timeliness: Timeliness | None
    test: TestAdvice | None
    final: SchoolAdvice | None
    final_late: bool
    exemption: ExemptionGround | None
    heroverweging: Heroverweging | None
    registered: frozenset[AdviceKind]
    """The advices registered with DUO as they stand now (a registration of an advice that
    was changed afterwards does not count)."""
    test_higher: bool = False
    """The toetsadvies is higher than the voorlopig advies (`workflows.scale.compare`)."""
    gap: int | None = None
    """Toetsadvies minus voorlopig advies in half steps (both on the scale), else None."""

    @property
    def left(self) -> bool:
        return self.status is Status.LEFT_SCHOOL


# Enum lookups by value, as dicts: a board's report builds thousands of facts.
_ADVICE = {a.value: a for a in SchoolAdvice}
_TEST = {t.value: t for t in TestAdvice}
_STATUS = {s.value: s for s in Status}
_TIMELINESS = {t.value: t for t in Timeliness}
_REASON = {r.value: r for r in KeepReason}
_GROUND = {g.value: g for g in ExemptionGround}
_REGISTERED = {
    (provisional, final): frozenset(
        kind
        for kind, sent in ((AdviceKind.PROVISIONAL, provisional), (AdviceKind.FINAL, final))
        if sent
    )
    for provisional in (False, True)
    for final in (False, True)
}


@cache
def _against(test: TestAdvice | None, provisional: SchoolAdvice | None) -> tuple[bool, int | None]:
    """Whether the toetsadvies is higher than the voorlopig advies, and the gap in half steps."""
    if test is None or provisional is None:
        return False, None
    steps = provisional.half_steps
    higher = compare(test, provisional) is Comparison.HIGHER
    return higher, test.half_steps - steps if steps is not None else None


class _Row(NamedTuple):
    """What a pupil's facts take from its trajectory row, decoded once per distinct row."""

    status: Status
    provisional: SchoolAdvice | None
    timeliness: Timeliness | None
    test: TestAdvice | None
    final: SchoolAdvice | None
    higher: bool
    gap: int | None


@lru_cache(maxsize=4096)
def _decoded(
    status: str,
    provisional: str | None,
    timeliness: str | None,
    test: str | None,
    final: str | None,
) -> _Row:
    """The enums of a trajectory row's values (a board has few distinct combinations)."""
    advice = _ADVICE[provisional] if provisional else None
    test_advice = _TEST[test] if test else None
    return _Row(
        _STATUS[status],
        advice,
        _TIMELINESS[timeliness] if timeliness else None,
        test_advice,
        _ADVICE[final] if final else None,
        *_against(test_advice, advice),
    )


@cache
def _heroverweging(
    outcome: str | None, reason: str | None, late: bool, talk: str | None
) -> Heroverweging:
    return Heroverweging(outcome, _REASON[reason] if reason else None, late, talk)


def _facts(
    stream_id: str,
    school_id: str,
    row: _Row,
    provisional: str | None,
    final: str | None,
    given_on: date | None,
    state: FactState,
    final_deadline: date,
    class_name: str | None,
    sex: int | None,
) -> PupilFacts:
    registered = _REGISTERED[
        (
            provisional is not None and state.registered_provisional == provisional,
            final is not None and state.registered_final == final,
        )
    ]
    hero = (
        _heroverweging(state.outcome, state.reason, state.decision_late, state.talk)
        if state.hero
        else None
    )
    return PupilFacts(
        stream_id.removeprefix(STREAM_PREFIX),
        school_id,
        class_name or "",
        sex,
        row.status,
        row.provisional,
        row.timeliness,
        row.test,
        row.final,
        given_on is not None and given_on > final_deadline,
        _GROUND[state.exemption] if state.exemption else None,
        hero,
        registered,
        row.higher,
        row.gap,
    )


def pupil_facts(
    row: Mapping[Any, Any],
    state: FactState,
    final_deadline: date,
    class_name: str | None,
    sex: int | None,
) -> PupilFacts:
    """One pupil's facts from the trajectory row, the folded fact state and the register's
    class and sex."""
    provisional, final = row["provisional_advice"] or None, row["final_advice"] or None
    decoded = _decoded(
        row["status"], provisional, row["provisional_timeliness"], row["test_advice"], final
    )
    return _facts(
        row["stream_id"],
        row["school_id"],
        decoded,
        provisional,
        final,
        row["final_given_on"],
        state,
        final_deadline,
        class_name,
        sex,
    )


_STATE_COLUMNS = FactState._fields
_STATE_AT = 10
"""Where the FactState columns start in `load_facts`' rows."""
_CHUNK = 500
_CHECKPOINT = (
    select(projection_checkpoints.c.position)
    .where(projection_checkpoints.c.name == PROJECTION)
    .scalar_subquery()
)


def fact_fields() -> list[Any]:
    """The fact events' folded fields as SQL expressions (JSON on both databases)."""
    data = events.c.data
    return [
        data["ground"].as_string(),
        data["fully"].as_boolean(),
        data["reason"].as_string(),
        data["timeliness"].as_string(),
        data["kind"].as_string(),
        data["advice"].as_string(),
    ]


def load_facts(conn: Connection, school_ids: Iterable[str], year: SchoolYear) -> list[PupilFacts]:
    """The facts of every groep 8 pupil of `school_ids` in `year` (left pupils included)."""
    ids = sorted(set(school_ids))
    if not ids:
        return []
    t, f, p = trajectories, report_facts, pupils
    in_year = (t.c.school_id.in_(ids), t.c.school_year == str(year), t.c.groep == 8)
    # the register's class and sex of the pupil (at one of these schools) the stream is of
    in_register = and_(
        p.c.id == func.substr(t.c.stream_id, len(STREAM_PREFIX) + 1), p.c.school_id.in_(ids)
    )
    query = (
        select(
            t.c.stream_id,
            t.c.school_id,
            t.c.status,
            t.c.provisional_advice,
            t.c.provisional_timeliness,
            t.c.test_advice,
            t.c.final_advice,
            t.c.final_given_on,
            p.c.class_name,
            p.c.sex,
            *(f.c[c] for c in _STATE_COLUMNS),
            f.c.stream_id.label("has_facts"),
            _CHECKPOINT.label("checkpoint"),
        )
        .select_from(t.outerjoin(f, f.c.stream_id == t.c.stream_id).outerjoin(p, in_register))
        .where(*in_year)
    )
    # plain tuples in the select's order: stream_id, school_id, status, provisional,
    # timeliness, test, final, given_on, class, sex, the FactState columns, has_facts, checkpoint;
    # read in chunks, so a board's rows are not all held at once (less for the GC to walk)
    result = conn.execute(query)
    first = result.fetchone()
    if first is None:
        return []
    checkpoint = first[-1] or 0
    # the fact events the read model has not folded yet: a range of the log's primary key (the
    # worker keeps it short), folded below for these pupils only
    tail = (
        select(events.c.stream_id, events.c.event_type, *fact_fields())
        .where(events.c.position > checkpoint, events.c.event_type.in_(FACT_EVENTS))
        .order_by(events.c.position)
    )
    pending: dict[str, list[tuple[str, Sequence[Any]]]] = {}
    for stream_id, event_type, *values in conn.execute(tail):
        pending.setdefault(stream_id, []).append((event_type, values))
    deadline = legal_calendar(year).final_advice_deadline
    end = _STATE_AT + len(_STATE_COLUMNS)
    found = []
    for part in chain(([first],), result.partitions(_CHUNK)):
        for row in part:
            stream_id, school_id, status, given, timeliness, test, final_given, given_on = row[:8]
            state = FactState._make(row[_STATE_AT:end]) if row[end] is not None else EMPTY
            for event_type, data in pending.get(stream_id, ()):
                state = apply(state, event_type, dict(zip(FIELDS, data, strict=True)))
            provisional, final = given or None, final_given or None
            found.append(
                _facts(
                    stream_id,
                    school_id,
                    _decoded(status, provisional, timeliness, test, final),
                    provisional,
                    final,
                    given_on,
                    state,
                    deadline,
                    row[8],
                    row[9],
                )
            )
    # in order of school, class and pupil: stable sorts on one field each (no key tuples)
    for field in (0, 2, 1):
        found.sort(key=itemgetter(field))
    return found
