"""The facts of each groep 8 pupil that the reports count, read set-based: three statements for
a whole board, never a stream per pupil.

The `trajectories` read model gives each pupil's advices, toetsadvies, definitief advies and
status; the register (`pupils`) the class and the gender; the log gives what the read model
folds away — the heroverweging's outcome and reason, the conversation before it, the exemption
ground and the registrations with DUO — from only the event types that carry them, joined to the
pupils of the schools and year asked for (the events' (stream_id, stream_version) index).
`fold_facts` is pure, so the same folding could feed a catch-up read model later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from service.store.schema import events, pupils, trajectories
from workflows.calendar import SchoolYear, legal_calendar
from workflows.enums import AdviceKind, ExemptionGround, KeepReason, Timeliness
from workflows.lifecycle import Status
from workflows.scale import SchoolAdvice, TestAdvice

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


@dataclass(frozen=True)
class Heroverweging:
    """The pupil's (last, not lapsed) heroverweging: its outcome once decided."""

    outcome: str | None = None
    """RAISED_FULLY, RAISED_PARTLY, KEPT, or None while undecided."""
    reason: KeepReason | None = None
    decision_late: bool = False
    talk: str | None = None
    """'held' or 'declined' once recorded for this heroverweging, else None."""


@dataclass(frozen=True)
class PupilFacts:
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

    @property
    def left(self) -> bool:
        return self.status is Status.LEFT_SCHOOL


def _timeliness(value: str | None) -> Timeliness | None:
    return Timeliness(value) if value else None


def fold_facts(
    row: dict[str, Any], facts: Sequence[tuple[str, dict[str, Any]]], final_deadline: date
) -> PupilFacts:
    """One pupil's facts from the read model's row (with the register's class and sex) and the
    pupil's fact events in log order."""
    exemption: ExemptionGround | None = None
    hero: Heroverweging | None = None
    sent: dict[AdviceKind, str] = {}
    for event_type, data in facts:
        if event_type == "exemption_granted":
            exemption = ExemptionGround(data["ground"])
        elif event_type == "reconsideration_required":
            # a replacing delivery while one is open keeps its conversation (and its decision
            # unless that no longer fits: the read model's status says whether one stands)
            hero = Heroverweging(talk=hero.talk if hero and hero.outcome is None else None)
        elif event_type == "reconsideration_lapsed":
            hero = None
        elif event_type in (
            "reconsideration_conversation_held",
            "reconsideration_conversation_declined",
        ):
            talk = "held" if event_type.endswith("held") else "declined"
            hero = (
                Heroverweging(hero.outcome, hero.reason, hero.decision_late, talk) if hero else hero
            )
        elif event_type in ("advice_raised", "advice_kept") and hero is not None:
            if event_type == "advice_kept":
                outcome = KEPT
            else:
                outcome = RAISED_FULLY if data["fully"] else RAISED_PARTLY
            reason = KeepReason(data["reason"]) if data.get("reason") else None
            late = data.get("timeliness") == Timeliness.LATE.value
            hero = Heroverweging(outcome, reason, late, hero.talk)
        elif event_type == "national_register_registration_sent":
            sent[AdviceKind(data["kind"])] = data["advice"]
    provisional = SchoolAdvice(row["provisional_advice"]) if row["provisional_advice"] else None
    final = SchoolAdvice(row["final_advice"]) if row["final_advice"] else None
    given_on = row["final_given_on"]
    registered = frozenset(
        kind
        for kind, advice in ((AdviceKind.PROVISIONAL, provisional), (AdviceKind.FINAL, final))
        if advice is not None and sent.get(kind) == advice.value
    )
    return PupilFacts(
        pupil_id=row["stream_id"].removeprefix("trajectory-"),
        school_id=row["school_id"],
        class_name=row.get("class_name") or "",
        sex=row.get("sex"),
        status=Status(row["status"]),
        provisional=provisional,
        provisional_timeliness=_timeliness(row["provisional_timeliness"]),
        test=TestAdvice(row["test_advice"]) if row["test_advice"] else None,
        final=final,
        final_late=given_on is not None and given_on > final_deadline,
        exemption=exemption,
        heroverweging=hero,
        registered=registered,
    )


_ROW = (
    trajectories.c.stream_id,
    trajectories.c.school_id,
    trajectories.c.status,
    trajectories.c.provisional_advice,
    trajectories.c.provisional_timeliness,
    trajectories.c.test_advice,
    trajectories.c.final_advice,
    trajectories.c.final_given_on,
)


def load_facts(conn: Connection, school_ids: Iterable[str], year: SchoolYear) -> list[PupilFacts]:
    """The facts of every groep 8 pupil of `school_ids` in `year` (left pupils included)."""
    ids = sorted(set(school_ids))
    if not ids:
        return []
    in_year = (
        trajectories.c.school_id.in_(ids),
        trajectories.c.school_year == str(year),
        trajectories.c.groep == 8,
    )
    rows = [dict(r._mapping) for r in conn.execute(select(*_ROW).where(*in_year))]
    register = {
        r.id: (r.class_name, r.sex)
        for r in conn.execute(
            select(pupils.c.id, pupils.c.class_name, pupils.c.sex).where(
                pupils.c.school_id.in_(ids)
            )
        )
    }
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    query = (
        select(events.c.stream_id, events.c.event_type, events.c.data)
        .select_from(events.join(trajectories, trajectories.c.stream_id == events.c.stream_id))
        .where(*in_year, events.c.event_type.in_(FACT_EVENTS))
        .order_by(events.c.position)
    )
    for stream_id, event_type, data in conn.execute(query):
        found.setdefault(stream_id, []).append((event_type, data))
    deadline = legal_calendar(year).final_advice_deadline
    facts = []
    for row in rows:
        class_name, sex = register.get(row["stream_id"].removeprefix("trajectory-"), ("", None))
        row["class_name"], row["sex"] = class_name, sex
        facts.append(fold_facts(row, found.get(row["stream_id"], ()), deadline))
    facts.sort(key=lambda f: (f.school_id, f.class_name, f.pupil_id))
    return facts
