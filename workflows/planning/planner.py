"""`plan`: requests + availability + fixed bookings -> a plan, and for every request that does
not fit, the reason in Dutch. First a greedy plan; then CP-SAT, hinted with it, places as many
as it can and then lowers the soft costs with that many placed (one model for a small plan, a
local search per staff member for a large one, see `local`). The result is checked against
every hard rule once more (the same `check` as manual planning); should a solver plan ever fail
that, the greedy plan is returned. Pure and deterministic: the same input gives the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from workflows.planning import messages as m
from workflows.planning.candidates import Calendars, Prepared, prepare, taken_reason
from workflows.planning.checking import check
from workflows.planning.costs import Weights
from workflows.planning.greedy import Choice, greedy
from workflows.planning.local import local_search, neighbourhoods
from workflows.planning.minutes import minutes_of, to_datetime, zone_of
from workflows.planning.model import Availability, Booking, Placement, Plan, Request, Unplaced
from workflows.planning.solver import PlanningModel


def plan(
    requests: Sequence[Request],
    availability: Sequence[Availability],
    bookings: Sequence[Booking] = (),
    *,
    step: timedelta = timedelta(minutes=5),
    time_limit_s: float = 10.0,
    seed: int = 0,
    names: Mapping[str, str] = m.NO_NAMES,
    weights: Weights = Weights(),  # noqa: B008 - frozen, immutable
) -> Plan:
    """Plan `requests` around the fixed `bookings` (a booking of a request being planned here is
    its old time and is ignored). `time_limit_s` is the solver's deterministic time in total."""
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("request ids must be unique")
    step_minutes = minutes_of(step)
    if step_minutes <= 0:
        raise ValueError("the step must be at least a minute")
    calendars = Calendars(availability, bookings, ignore=frozenset(ids))
    prepared = [prepare(r, calendars, step_minutes, names) for r in requests]
    first = greedy(prepared)
    best = _improve(prepared, calendars, first, step_minutes, time_limit_s, seed, weights)
    result = _plan(prepared, best, names)
    if best is not first and not _valid(prepared, result, availability, bookings):
        result = _plan(prepared, first, names)
    return result


GLOBAL = 20
"""Up to this many requests, one CP-SAT model of everything lowers the soft costs (and usually
proves its plan optimal in milliseconds); above it, the local search over neighbourhoods does:
on a class of 25 it reached the same cost in a seventh of the time, on 125 a lower one."""


def _improve(
    prepared: Sequence[Prepared],
    calendars: Calendars,
    first: dict[int, Choice],
    step: int,
    time_limit_s: float,
    seed: int,
    weights: Weights,
) -> dict[int, Choice]:
    model = PlanningModel(prepared, step)
    if not model.active or time_limit_s <= 0:
        return first
    best = first
    remaining = time_limit_s
    if len(first) < len(model.active):
        model.hint(first)
        model.maximise_placed()
        found, spent = model.solve(time_limit_s / 2, seed)
        remaining -= spent
        if found is not None and len(found) > len(best):
            best = found
    remaining = max(remaining, time_limit_s / 4)
    if len(model.active) > GLOBAL and neighbourhoods(prepared):
        best, _ = local_search(prepared, calendars, best, step, remaining, seed, weights)
        return best
    model.minimise_soft(len(best), weights)
    model.hint(best)
    found, _ = model.solve(remaining, seed)
    if found is not None and len(found) >= len(best):
        return found
    return best


def _plan(
    prepared: Sequence[Prepared], chosen: dict[int, Choice], names: Mapping[str, str]
) -> Plan:
    placements: list[Placement] = []
    unplaced: list[Unplaced] = []
    for i, item in enumerate(prepared):
        request = item.request
        if i in chosen:
            option_index, start_minute = chosen[i]
            option = item.options[option_index]
            start = to_datetime(start_minute, zone_of(request.earliest))
            placements.append(
                Placement(request.id, start, start + request.duration, option.room, option.staff)
            )
        elif item.reason is not None:
            unplaced.append(item.reason)
        else:
            unplaced.append(taken_reason(item, names))
    return Plan(tuple(placements), tuple(unplaced))


def _valid(
    prepared: Sequence[Prepared],
    result: Plan,
    availability: Sequence[Availability],
    bookings: Sequence[Booking],
) -> bool:
    """Every placement passes `check` against the fixed bookings and the placements before it."""
    requests = {item.request.id: item.request for item in prepared}
    ignore = set(requests)
    fixed = [b for b in bookings if b.request_id not in ignore]
    for placement in result.placements:
        request = requests[placement.request_id]
        if check(request, placement.start, placement.room, availability, fixed):
            return False
        fixed.append(
            Booking(
                request.id,
                placement.start,
                placement.end,
                placement.staff,
                request.family,
                placement.room,
            )
        )
    return True
