"""The CP-SAT model: per request one start variable on the step grid (its domain the request's
feasible starts), a presence literal, one literal per option (who attends, room, day), and
optional intervals in a no-overlap per staff person, room and family. Two solves on one model:
first the number placed is maximised, then, with at least that many placed, the soft costs are
minimised (siblings' waiting, the span and number of each staff member's days, talks outside a
family's preferred times). Single worker, fixed seed, deterministic time limit; each solve is
hinted with the best plan so far.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ortools.sat.python import cp_model

from workflows.planning.candidates import Prepared
from workflows.planning.greedy import Choice
from workflows.planning.minutes import normalise, to_minute


@dataclass(frozen=True)
class Weights:
    """Soft costs, in "minutes of a teacher's day" per unit."""

    sibling_gap: int = 2
    """Per minute between two talks of the same family."""
    staff_span: int = 1
    """Per minute from a staff member's first to last talk on a day."""
    staff_day: int = 60
    """Per day a staff member has talks at all."""
    unpreferred: int = 120
    """Per talk outside the family's preferred times (when they gave any)."""


def _runs(values: Sequence[int]) -> list[list[int]]:
    """Sorted distinct integers as closed intervals `[a, b]` of consecutive values."""
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


class PlanningModel:
    def __init__(self, prepared: Sequence[Prepared], step: int) -> None:
        self.prepared = prepared
        self.step = step
        self.model = cp_model.CpModel()
        self.active = [i for i, item in enumerate(prepared) if item.options]
        self.origin = min(
            (o.starts[0] for i in self.active for o in prepared[i].options), default=0
        )
        self.duration_max = max((item.duration for item in prepared), default=0)
        self.k: dict[int, cp_model.IntVar] = {}
        self.placed: dict[int, cp_model.IntVar] = {}
        self.lits: dict[int, list[cp_model.IntVar]] = {}
        staff: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        rooms: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        families: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        for i in self.active:
            self._request(i, staff, rooms, families)
        for group in (staff, rooms, families):
            for key in sorted(group):
                if len(group[key]) > 1:
                    self.model.add_no_overlap(group[key])

    def _ks(self, starts: Sequence[int]) -> list[int]:
        return [(s - self.origin) // self.step for s in starts]

    def start(self, i: int) -> cp_model.LinearExpr:
        return self.k[i] * self.step

    def _request(
        self,
        i: int,
        staff: dict[str, list[cp_model.IntervalVar]],
        rooms: dict[str, list[cp_model.IntervalVar]],
        families: dict[str, list[cp_model.IntervalVar]],
    ) -> None:
        model, item = self.model, self.prepared[i]
        options = item.options
        every = sorted({s for o in options for s in o.starts})
        k = model.new_int_var_from_domain(
            cp_model.Domain.from_intervals(_runs(self._ks(every))), f"k{i}"
        )
        placed = model.new_bool_var(f"placed{i}")
        self.k[i], self.placed[i] = k, placed
        if len(options) == 1:
            lits = [placed]
        else:
            lits = [model.new_bool_var(f"o{i}_{j}") for j in range(len(options))]
            for option, lit in zip(options, lits, strict=True):
                domain = cp_model.Domain.from_intervals(_runs(self._ks(option.starts)))
                model.add_linear_expression_in_domain(k, domain).only_enforce_if(lit)
            model.add(sum(lits) == placed)
        self.lits[i] = lits
        start = self.start(i)
        base = model.new_optional_fixed_size_interval_var(start, item.duration, placed, f"t{i}")
        for person in item.request.staff:
            staff[person].append(base)
        families[item.request.family].append(base)
        members: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        in_room: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        fixed = len(item.request.staff)
        for option, lit in zip(options, lits, strict=True):
            for person in option.staff[fixed:]:
                members[person].append(lit)
            if option.room is not None:
                in_room[option.room].append(lit)
        for target, found in ((staff, members), (rooms, in_room)):
            for key in sorted(found):
                present = self._either(found[key], placed, lits, f"{key}{i}")
                interval = model.new_optional_fixed_size_interval_var(
                    start, item.duration, present, f"t{i}_{key}"
                )
                target[key].append(interval)

    def _either(
        self,
        found: list[cp_model.IntVar],
        placed: cp_model.IntVar,
        lits: list[cp_model.IntVar],
        name: str,
    ) -> cp_model.IntVar:
        if len(found) == len(lits):
            return placed
        if len(found) == 1:
            return found[0]
        present = self.model.new_bool_var(name)
        self.model.add(sum(found) == present)
        return present

    def hint(self, plan: dict[int, Choice]) -> None:
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in ortools 9.15
        for i in self.active:
            choice = plan.get(i)
            self.model.add_hint(self.placed[i], choice is not None)
            if choice is None:
                continue
            self.model.add_hint(self.k[i], (choice[1] - self.origin) // self.step)
            if len(self.lits[i]) > 1:
                for j, lit in enumerate(self.lits[i]):
                    self.model.add_hint(lit, j == choice[0])

    def maximise_placed(self) -> None:
        self.model.maximize(sum(self.placed.values()))

    def minimise_soft(self, at_least: int, weights: Weights) -> None:
        model = self.model
        model.add(sum(self.placed.values()) >= at_least)
        terms: list[cp_model.LinearExprT] = []
        self._staff_days(terms, weights)
        self._siblings(terms, weights)
        self._preferences(terms, weights)
        model.minimize(sum(terms))

    def _staff_days(self, terms: list[cp_model.LinearExprT], weights: Weights) -> None:
        model = self.model
        days: dict[tuple[str, date], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for i in self.active:
            for option, lit in zip(self.prepared[i].options, self.lits[i], strict=True):
                for person in option.staff:
                    days[(person, option.day)].append((i, lit))
        for (person, day), entries in sorted(days.items()):
            options = [o for i, _ in entries for o in self.prepared[i].options]
            low = min(o.starts[0] for o in options) - self.origin
            high = max(o.starts[-1] for o in options) + self.duration_max - self.origin
            first = model.new_int_var(low, high, f"first_{person}_{day}")
            last = model.new_int_var(low, high, f"last_{person}_{day}")
            used = model.new_bool_var(f"used_{person}_{day}")
            # Redundant, for the bound: that day's talks fit between the first and the last.
            model.add(last - first >= sum(self.prepared[i].duration * lit for i, lit in entries))
            for i, lit in entries:
                start = self.start(i)
                model.add(first <= start).only_enforce_if(lit)
                model.add(last >= start + self.prepared[i].duration).only_enforce_if(lit)
                model.add_implication(lit, used)
            terms.append(weights.staff_span * (last - first))
            terms.append(weights.staff_day * used)

    def _siblings(self, terms: list[cp_model.LinearExprT], weights: Weights) -> None:
        model = self.model
        families: dict[str, list[int]] = defaultdict(list)
        for i in self.active:
            families[self.prepared[i].request.family].append(i)
        horizon = max(
            (o.starts[-1] + p.duration for p in self.prepared for o in p.options), default=0
        )
        horizon -= self.origin
        for members in families.values():
            for x, a in enumerate(members):
                for b in members[x + 1 :]:
                    gap = model.new_int_var(0, horizon, f"gap{a}_{b}")
                    both = [self.placed[a], self.placed[b]]
                    end_a = self.start(a) + self.prepared[a].duration
                    end_b = self.start(b) + self.prepared[b].duration
                    model.add(gap >= self.start(b) - end_a).only_enforce_if(both)
                    model.add(gap >= self.start(a) - end_b).only_enforce_if(both)
                    terms.append(weights.sibling_gap * gap)

    def _preferences(self, terms: list[cp_model.LinearExprT], weights: Weights) -> None:
        model = self.model
        for i in self.active:
            item = self.prepared[i]
            if not item.request.preferred:
                continue
            windows = normalise(
                (to_minute(w.start, up=True), to_minute(w.end)) for w in item.request.preferred
            )
            inside = sorted(
                {
                    s
                    for o in item.options
                    for s in o.starts
                    if any(a <= s and s + item.duration <= b for a, b in windows)
                }
            )
            if not inside:
                continue
            liked = model.new_bool_var(f"liked{i}")
            domain = cp_model.Domain.from_intervals(_runs(self._ks(inside)))
            model.add_linear_expression_in_domain(self.k[i], domain).only_enforce_if(liked)
            model.add_implication(liked, self.placed[i])
            terms.append(weights.unpreferred * (self.placed[i] - liked))

    def solve(self, seconds: float, seed: int) -> tuple[dict[int, Choice] | None, float]:
        """The solution found (None if none), and the deterministic time it took."""
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        # The deterministic limit decides (same input, same plan on any machine); the
        # wall-clock cap only guards against a very slow or busy machine.
        solver.parameters.max_deterministic_time = max(seconds, 0.01)
        solver.parameters.max_time_in_seconds = max(3 * seconds, 0.1)
        status = solver.solve(self.model)
        spent = solver.response_proto.deterministic_time
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, spent
        found: dict[int, Choice] = {}
        for i in self.active:
            if solver.value(self.placed[i]):
                option = next(j for j, lit in enumerate(self.lits[i]) if solver.value(lit))
                found[i] = (option, self.origin + solver.value(self.k[i]) * self.step)
        return found, spent
