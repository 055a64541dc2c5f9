"""Local search for large plans, where one CP-SAT model of everything (single worker) rarely
finds a better plan in time: each neighbourhood (the talks of one staff member, with their
siblings' talks) is planned again by CP-SAT while every other talk stays where it is; a new
neighbourhood plan is kept when the whole plan gets better (more placed, or the same number at
lower soft cost). Rounds over all neighbourhoods in a fixed order until a round brings nothing
or the deterministic time is spent, so the result is the same on every run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from workflows.planning.candidates import Calendars, Prepared, prepare
from workflows.planning.costs import Weights, cost_of
from workflows.planning.greedy import Choice
from workflows.planning.solver import PlanningModel

PER_AREA = 0.05
"""Deterministic seconds per neighbourhood: a class's 25 talks improve within a few ms."""
LARGEST = 80
"""Neighbourhoods of more talks (an intern begeleider at every talk) are left out."""


def neighbourhoods(prepared: Sequence[Prepared]) -> list[list[int]]:
    """Per staff member, the requests that person could attend plus their siblings' requests;
    the same set once (duo teachers share one)."""
    by_person: dict[str, set[int]] = defaultdict(set)
    by_family: dict[str, set[int]] = defaultdict(set)
    for i, item in enumerate(prepared):
        if not item.options:
            continue
        by_family[item.request.family].add(i)
        for option in item.options:
            for person in option.staff:
                by_person[person].add(i)
    found: list[list[int]] = []
    seen: set[frozenset[int]] = set()
    for person in sorted(by_person):
        members = set(by_person[person])
        for i in list(members):
            members |= by_family[prepared[i].request.family]
        key = frozenset(members)
        if key not in seen and 1 < len(members) <= LARGEST:
            seen.add(key)
            found.append(sorted(members))
    return found


def local_search(
    prepared: Sequence[Prepared],
    calendars: Calendars,
    plan: dict[int, Choice],
    step: int,
    budget: float,
    seed: int,
    weights: Weights,
) -> tuple[dict[int, Choice], float]:
    """A plan at least as good as `plan`, and the deterministic time spent."""
    areas = neighbourhoods(prepared)
    liked: dict[int, set[int]] = {}
    best, best_cost = dict(plan), cost_of(prepared, plan, weights, liked)
    spent = 0.0
    per_area = min(PER_AREA, budget)
    improved = True
    while improved and spent < budget:
        improved = False
        for area in areas:
            if spent >= budget:
                break
            found, used = _replan(prepared, calendars, best, area, step, per_area, seed, weights)
            spent += used
            if found is None:
                continue
            found_cost = cost_of(prepared, found, weights, liked)
            if (len(found), -found_cost) > (len(best), -best_cost):
                best, best_cost, improved = found, found_cost, True
    return best, spent


def _replan(
    prepared: Sequence[Prepared],
    calendars: Calendars,
    plan: dict[int, Choice],
    area: list[int],
    step: int,
    seconds: float,
    seed: int,
    weights: Weights,
) -> tuple[dict[int, Choice] | None, float]:
    inside = set(area)
    fixed = []
    for i, (j, start) in plan.items():
        if i not in inside:
            option = prepared[i].options[j]
            span = (start, start + prepared[i].duration)
            fixed.append((option.staff, option.room, prepared[i].request.family, span))
    local = calendars.with_busy(fixed)
    sub = [prepare(prepared[i].request, local, step) for i in area]
    model = PlanningModel(sub, step)
    hint: dict[int, Choice] = {}
    for x, i in enumerate(area):
        if i in plan:
            hint[x] = (_same_option(prepared[i], plan[i][0], sub[x]), plan[i][1])
    model.minimise_soft(len(hint), weights)
    model.hint(hint)
    found, used = model.solve(seconds, seed)
    if found is None:
        return None, used
    result = {i: c for i, c in plan.items() if i not in inside}
    for x, (j, start) in found.items():
        result[area[x]] = (_same_option(sub[x], j, prepared[area[x]]), start)
    return result, used


def _same_option(source: Prepared, index: int, target: Prepared) -> int:
    """The index in `target` of the option `index` of `source` (same staff, room and day)."""
    option = source.options[index]
    for j, other in enumerate(target.options):
        if (other.staff, other.room, other.day) == (option.staff, option.room, option.day):
            return j
    raise LookupError("an option missing from the neighbourhood's plan")
