"""The CP-SAT model: per request one start variable on the step grid (its domain the request's
feasible starts), a presence literal, one literal per option (who attends, room, day), and
optional intervals in a no-overlap per staff person, room and family. Two solves on one model:
first the number placed is maximised, then, with at least that many placed, the soft costs
are minimised (siblings not back to back, the span and number of each staff member's days,
talks outside a family's preferred times). Single worker, fixed seed, deterministic time
limit; each solve is hinted with the best plan so far.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from ortools.sat.python import cp_model

from workflows.planning.candidates import Prepared
from workflows.planning.costs import Weights, siblings_apart, staff_days, unpreferred
from workflows.planning.greedy import Choice
from workflows.planning.minutes import runs


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
        self.derived: list[Callable[[dict[int, Choice]], None]] = []
        """Hints for the soft costs' variables, worked out from a plan."""
        staff: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        rooms: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        families: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        for i in self.active:
            self._request(i, staff, rooms, families)
        for group in (staff, rooms, families):
            for key in sorted(group):
                if len(group[key]) > 1:
                    self.model.add_no_overlap(group[key])

    def ks(self, starts: Sequence[int]) -> list[int]:
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
            cp_model.Domain.from_intervals(runs(self.ks(every))), f"k{i}"
        )
        placed = model.new_bool_var(f"placed{i}")
        self.k[i], self.placed[i] = k, placed
        if len(options) == 1:
            lits = [placed]
        else:
            lits = [model.new_bool_var(f"o{i}_{j}") for j in range(len(options))]
            for option, lit in zip(options, lits, strict=True):
                domain = cp_model.Domain.from_intervals(runs(self.ks(option.starts)))
                model.add_linear_expression_in_domain(k, domain).only_enforce_if(lit)
            model.add(sum(lits) == placed)
        self.lits[i] = lits
        start = self.start(i)
        base = model.new_optional_fixed_size_interval_var(start, item.duration, placed, f"t{i}")
        fixed = list(dict.fromkeys(item.request.staff))  # every option starts with them
        for person in fixed:
            staff[person].append(base)
        families[item.request.family].append(base)
        members: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        in_room: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for option, lit in zip(options, lits, strict=True):
            for person in option.staff[len(fixed) :]:
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
        """Start the search from `plan`, the soft costs' own variables included."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in ortools 9.15
        for derive in self.derived:
            derive(plan)
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
        """With at least `at_least` placed, minimise the soft costs (see `costs`)."""
        self.model.add(sum(self.placed.values()) >= at_least)
        terms: list[cp_model.LinearExprT] = []
        for cost in (staff_days, siblings_apart, unpreferred):
            cost(self, terms, weights)
        self.model.minimize(sum(terms))

    def solve(self, seconds: float, seed: int) -> tuple[dict[int, Choice] | None, float]:
        """The solution found (None if none), and the deterministic time it took."""
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        # The deterministic limit decides (same input, same plan on any machine); the
        # wall-clock cap only guards against a very slow or busy machine (on a loaded one a
        # deterministic second took 3-7 wall seconds).
        solver.parameters.max_deterministic_time = max(seconds, 0.01)
        solver.parameters.max_time_in_seconds = 10 * seconds + 1
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
