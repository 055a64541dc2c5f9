"""A whole round of talks at once: one talk requested per groep 8 pupil, then all planned.

Directie or IB picks a round of the school's cycle (the voorlopig-adviesgesprekken, the
OKR-gesprekken, the school's own rounds) and `request_round` asks `Container.talks` for one talk
per groep 8 pupil of the school (or of one class) in the current school year (pupils who left are
skipped; asking
again gives the same talks, nothing twice) and lets the planner place every open one of them in
the staff's published availability (`Talks.plan_open`). The outcome names each pupil: planned
now, planned already, or not planned with the planner's reason in Dutch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from service.shared.context import Actor, CommandContext
from service.store.engine import single_statements
from service.store.schema import trajectories
from workflows.calendar import SchoolYear
from workflows.conversations import TalkKind
from workflows.cycles import ConversationRound, RoundKind
from workflows.errors import DomainError
from workflows.lifecycle import Status

_KINDS = {RoundKind.PROVISIONAL_ADVICE: TalkKind.PROVISIONAL_ADVICE, RoundKind.OKR: TalkKind.OKR}
_GONE = (Status.LEFT_SCHOOL.value, Status.NOT_ENROLLED.value)


def kind_of(round_: ConversationRound) -> TalkKind:
    """The talk's kind for a round: the voorlopig advies and the OKR have their own."""
    return _KINDS.get(round_.kind, TalkKind.ROUND)


@dataclass
class RoundOutcome:
    """What `request_round` did, per pupil by name."""

    round_name: str
    planned: list[str] = field(default_factory=list)
    """Pupils whose talk was planned now."""
    already: list[str] = field(default_factory=list)
    """Pupils whose talk of this round was planned (or held) before."""
    unplaced: list[tuple[str, str]] = field(default_factory=list)
    """(pupil, why) for every talk the planner could not place, or that could not be asked."""

    @property
    def heading(self) -> str:
        parts = [f"{len(self.planned)} {'gesprek' if len(self.planned) == 1 else 'gesprekken'}"]
        text = f"{parts[0]} ingepland voor {self.round_name}"
        if self.already:
            text += f"; {len(self.already)} {'stond' if len(self.already) == 1 else 'stonden'} al "
            text += "gepland"
        if self.unplaced:
            text += f"; {len(self.unplaced)} niet ingepland"
        return text + "."


def groep_8_pupils(container: Any, school_id: str, year: SchoolYear) -> list[str]:
    """The ids of the school's groep 8 pupils in `year` who are still at school."""
    with single_statements(container.engine).connect() as conn:
        rows = conn.execute(
            select(trajectories.c.stream_id).where(
                trajectories.c.school_id == school_id,
                trajectories.c.school_year == str(year),
                trajectories.c.groep == 8,
                trajectories.c.status.not_in(_GONE),
            )
        ).all()
    return sorted(r.stream_id.removeprefix("trajectory-") for r in rows)


def classes(container: Any, school_id: str, year: SchoolYear) -> list[str]:
    """The classes of the school's groep 8 pupils in `year`, sorted."""
    ids = set(groep_8_pupils(container, school_id, year))
    found = {p.class_name for p in container.register.pupils_of(school_id) if p.id in ids}
    return sorted(c for c in found if c)


def request_round(
    container: Any,
    school_id: str,
    round_name: str,
    actor: Actor | CommandContext,
    *,
    year: SchoolYear | None = None,
    class_name: str | None = None,
) -> RoundOutcome:
    """Request the round's talk for every groep 8 pupil of the school (of `class_name` only,
    when given) and plan the open ones. `DomainError` ("round_unknown") when the school has no
    such round."""
    year = year or SchoolYear.containing(container.clock().date())
    policy = container.policies.policy_for(school_id, year)
    chosen = next((r for r in policy.rounds if r.name == round_name), None)
    if chosen is None:
        raise DomainError("round_unknown", f"de school heeft geen gespreksronde '{round_name}'")
    register = {p.id: p for p in container.register.pupils_of(school_id)}
    outcome = RoundOutcome(chosen.name)
    pupil_of: dict[str, str] = {}
    for pupil_id in groep_8_pupils(container, school_id, year):
        pupil = register.get(pupil_id)
        if class_name is not None and (pupil is None or pupil.class_name != class_name):
            continue
        name = pupil.display_name if pupil else "onbekende leerling"
        try:
            ids = container.talks.request_all(
                pupil_id, kind_of(chosen), actor, round_name=chosen.name
            )
        except DomainError as refused:
            outcome.unplaced.append((name, refused.message))
            continue
        if not ids:
            outcome.unplaced.append((name, "deze leerling staat niet in de administratie"))
        pupil_of.update(dict.fromkeys(ids, name))
    if not pupil_of:
        return outcome
    report = container.talks.plan_open(school_id, actor, talk_ids=sorted(pupil_of))
    outcome.planned = sorted({pupil_of[t] for t in report.planned if t in pupil_of})
    done = set(report.planned) | {u.request_id for u in report.unplaced}
    outcome.unplaced += sorted(
        (pupil_of[u.request_id], u.message) for u in report.unplaced if u.request_id in pupil_of
    )
    outcome.already = sorted({name for talk_id, name in pupil_of.items() if talk_id not in done})
    return outcome
