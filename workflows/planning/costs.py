"""The soft costs the solver minimises once the number placed is fixed, each with the hint
values of its own variables worked out from a plan (so a hinted plan starts at its true cost):
a staff member's day (its span from first to last talk, and a cost for using the day at all),
a family's talks not back to back, and a talk outside the family's preferred times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from workflows.planning.minutes import normalise, runs, to_minute

if TYPE_CHECKING:
    from workflows.planning.candidates import Prepared
    from workflows.planning.greedy import Choice
    from workflows.planning.solver import PlanningModel

Terms = list[cp_model.LinearExprT]


@dataclass(frozen=True)
class Weights:
    """Soft costs, in "minutes of a teacher's day" per unit."""

    staff_span: int = 1
    """Per minute from a staff member's first to last talk on a day."""
    staff_day: int = 60
    """Per day a staff member has talks at all."""
    siblings_apart: int = 90
    """Per pair of a family's talks that are not back to back."""
    unpreferred: int = 120
    """Per talk outside the family's preferred times (when they gave any)."""


def staff_days(planning: PlanningModel, terms: Terms, weights: Weights) -> None:
    model, prepared, origin = planning.model, planning.prepared, planning.origin
    days: dict[tuple[str, date], list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    for i in planning.active:
        for j, (option, lit) in enumerate(zip(prepared[i].options, planning.lits[i], strict=True)):
            for person in option.staff:
                days[(person, option.day)].append((i, j, lit))
    for (person, day), entries in sorted(days.items()):
        options = [prepared[i].options[j] for i, j, _ in entries]
        low = min(o.starts[0] for o in options) - origin
        high = max(o.starts[-1] for o in options) + planning.duration_max - origin
        first = model.new_int_var(low, high, f"first_{person}_{day}")
        last = model.new_int_var(low, high, f"last_{person}_{day}")
        used = model.new_bool_var(f"used_{person}_{day}")
        # Redundant, for the bound: that day's talks fit between the first and the last.
        model.add(last - first >= sum(prepared[i].duration * lit for i, _, lit in entries))
        for i, _, lit in entries:
            start = planning.start(i)
            model.add(first <= start).only_enforce_if(lit)
            model.add(last >= start + prepared[i].duration).only_enforce_if(lit)
            model.add_implication(lit, used)
        terms.append(weights.staff_span * (last - first))
        terms.append(weights.staff_day * used)

        def derive(
            plan: dict[int, Choice],
            entries: list[tuple[int, int, cp_model.IntVar]] = entries,
            vars_: tuple[cp_model.IntVar, cp_model.IntVar, cp_model.IntVar] = (first, last, used),
            low: int = low,
        ) -> None:
            spans = [
                (plan[i][1] - origin, plan[i][1] - origin + prepared[i].duration)
                for i, j, _ in entries
                if i in plan and plan[i][0] == j
            ]
            first, last, used = vars_
            model.add_hint(first, min((s for s, _ in spans), default=low))
            model.add_hint(last, max((e for _, e in spans), default=low))
            model.add_hint(used, bool(spans))

        planning.derived.append(derive)


def siblings_apart(planning: PlanningModel, terms: Terms, weights: Weights) -> None:
    """A cost for every pair of a family's talks that are not back to back."""
    model, prepared = planning.model, planning.prepared
    families: dict[str, list[int]] = defaultdict(list)
    for i in planning.active:
        families[prepared[i].request.family].append(i)
    for members in families.values():
        for x, a in enumerate(members):
            for b in members[x + 1 :]:
                after = model.new_bool_var(f"after{a}_{b}")
                before = model.new_bool_var(f"before{a}_{b}")
                end_a = planning.start(a) + prepared[a].duration
                end_b = planning.start(b) + prepared[b].duration
                model.add(planning.start(b) == end_a).only_enforce_if(after)
                model.add(planning.start(a) == end_b).only_enforce_if(before)
                for lit in (after, before):
                    model.add_implication(lit, planning.placed[a])
                    model.add_implication(lit, planning.placed[b])
                model.add_at_most_one(after, before)
                terms.append(weights.siblings_apart * (1 - after - before))

                def derive(
                    plan: dict[int, Choice],
                    pair: tuple[int, int] = (a, b),
                    lits: tuple[cp_model.IntVar, cp_model.IntVar] = (after, before),
                ) -> None:
                    a, b = pair
                    both = a in plan and b in plan
                    model.add_hint(
                        lits[0], both and plan[b][1] == plan[a][1] + prepared[a].duration
                    )
                    model.add_hint(
                        lits[1], both and plan[a][1] == plan[b][1] + prepared[b].duration
                    )

                planning.derived.append(derive)


def preferred_starts(item: Prepared) -> set[int]:
    """The request's starts at which the whole talk lies in one of the family's preferences."""
    windows = normalise(
        (to_minute(w.start, up=True), to_minute(w.end)) for w in item.request.preferred
    )
    return {
        s
        for o in item.options
        for s in o.starts
        if any(a <= s and s + item.duration <= b for a, b in windows)
    }


def unpreferred(planning: PlanningModel, terms: Terms, weights: Weights) -> None:
    """A cost for a placed talk outside the family's preferred times."""
    model = planning.model
    for i in planning.active:
        item = planning.prepared[i]
        if not item.request.preferred:
            continue
        inside = preferred_starts(item)
        if not inside:
            continue
        liked = model.new_bool_var(f"liked{i}")
        domain = cp_model.Domain.from_intervals(runs(planning.ks(sorted(inside))))
        model.add_linear_expression_in_domain(planning.k[i], domain).only_enforce_if(liked)
        model.add_implication(liked, planning.placed[i])
        terms.append(weights.unpreferred * (planning.placed[i] - liked))

        def derive(
            plan: dict[int, Choice],
            i: int = i,
            liked: cp_model.IntVar = liked,
            inside: set[int] = inside,
        ) -> None:
            model.add_hint(liked, i in plan and plan[i][1] in inside)

        planning.derived.append(derive)


def cost_of(
    prepared: Sequence[Prepared],
    plan: dict[int, Choice],
    weights: Weights,
    liked: dict[int, set[int]] | None = None,
) -> int:
    """The soft costs of `plan`, as the solver counts them (`liked`: `preferred_starts` per
    request, when already worked out)."""
    liked = {} if liked is None else liked
    days: dict[tuple[str, date], list[int]] = {}
    for i, (j, start) in plan.items():
        option, end = prepared[i].options[j], start + prepared[i].duration
        for person in option.staff:
            span = days.setdefault((person, option.day), [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
    total = sum(weights.staff_span * (e - s) + weights.staff_day for s, e in days.values())
    families: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(prepared):
        if item.options:
            families[item.request.family].append(i)
    for members in families.values():
        for x, a in enumerate(members):
            for b in members[x + 1 :]:
                together = (
                    a in plan
                    and b in plan
                    and (
                        plan[b][1] == plan[a][1] + prepared[a].duration
                        or plan[a][1] == plan[b][1] + prepared[b].duration
                    )
                )
                total += 0 if together else weights.siblings_apart
    for i, (_, start) in plan.items():
        if prepared[i].request.preferred:
            if i not in liked:
                liked[i] = preferred_starts(prepared[i])
            if liked[i] and start not in liked[i]:
                total += weights.unpreferred
    return total
