"""Issue 14's planner figures, with a fixed random seed:

- `school`: a whole school's round of talks: 600 pupils in 24 classes of 25, a third of the
  classes with duo teachers on different weekdays, ~10% siblings (in other classes), 15-minute
  talks over two weeks of afternoon and evening availability, some families unavailable on some
  afternoons, some preferring the evening. Prints the share placed (goal >= 99.5%), the seconds
  (goal <= 30 s on 2 cores) and the greedy plan's share for comparison.
- `national`: the national March: about 30,000 heroverweging talks in 6,700 schools; each school
  plans its own 2-7 talks of 30 minutes between the working day after its results came in
  (13-18 March) and 23 March (24 March minus a margin of one working day); its groep 8 teachers
  (some duos on different days; in 30% of the schools the intern begeleider attends too) publish
  2-4 afternoons in that time; 15% of the families cannot come on one of those days. Schools
  are planned in a pool of `--workers` processes. Prints talks planned per second and the share
  placed before the deadline.

Prints JSON lines. Run: .venv/bin/python -m bench.planning [--only school|national]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.planning import Availability, Plan, Request, Window, plan

AMS = ZoneInfo("Europe/Amsterdam")
QUARTER = timedelta(minutes=15)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)


def working_days(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


# -- a whole school's round -----------------------------------------------------------------------


def school_round(rng: random.Random) -> tuple[list[Request], list[Availability]]:
    days = working_days(date(2026, 2, 2), 10)  # two weeks, Monday 2 February on
    requests: list[Request] = []
    availability: list[Availability] = []
    pupils: list[tuple[int, int]] = [(c, p) for c in range(24) for p in range(25)]
    family = {pupil: f"gezin-{pupil[0]}-{pupil[1]}" for pupil in pupils}
    # ~10% siblings: 30 pairs in different classes share a family.
    singles = list(pupils)
    rng.shuffle(singles)
    for i in range(30):
        a, b = singles[2 * i], singles[2 * i + 1]
        if a[0] != b[0]:
            family[b] = family[a]
    for c in range(24):
        room = f"lokaal {c + 1}"
        duo = c % 3 == 0
        teachers = [f"leerkracht-{c}a", f"leerkracht-{c}b"] if duo else [f"leerkracht-{c}"]
        for t, teacher in enumerate(teachers):
            # Duos: one works Monday-Tuesday, the other Wednesday-Friday.
            mine = [d for d in days if not duo or (d.weekday() < 2) == (t == 0)]
            afternoons = rng.sample(mine, k=min(len(mine), 3 if not duo else 2))
            evening = rng.choice(mine)
            windows = [Window(at(d, 14, 30), at(d, 17)) for d in sorted(afternoons)]
            windows.append(Window(at(evening, 19), at(evening, 21)))
            availability.append(Availability(teacher, tuple(windows), room))
        for p in range(25):
            unavailable: tuple[Window, ...] = ()
            preferred: tuple[Window, ...] = ()
            if rng.random() < 0.2:
                day = rng.choice(days)
                unavailable = (Window(at(day, 12), at(day, 18)),)
            if rng.random() < 0.2:
                preferred = tuple(Window(at(d, 18), at(d, 22)) for d in days)
            requests.append(
                Request(
                    id=f"gesprek-{c}-{p}",
                    family=family[(c, p)],
                    staff=() if duo else (teachers[0],),
                    staff_any=((teachers[0], teachers[1]),) if duo else (),
                    duration=QUARTER,
                    earliest=at(days[0], 8),
                    latest_end=at(days[-1], 22),
                    unavailable=unavailable,
                    preferred=preferred,
                )
            )
    return requests, availability


def bench_school(seed: int, time_limit_s: float) -> None:
    requests, availability = school_round(random.Random(seed))
    started = time.perf_counter()
    greedy = plan(requests, availability, time_limit_s=0)
    greedy_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    result = plan(requests, availability, time_limit_s=time_limit_s, seed=seed)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "bench": "school_round",
                "pupils": len(requests),
                "placed": len(result.placements),
                "share_placed": round(len(result.placements) / len(requests), 4),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "solver_time_limit_s": time_limit_s,
                "greedy_share_placed": round(len(greedy.placements) / len(requests), 4),
                "greedy_seconds": round(greedy_seconds, 2),
                "sibling_pairs_back_to_back": siblings_back_to_back(requests, result),
                "unplaced_codes": dict(Counter(u.code for u in result.unplaced)),
            }
        )
    )


def siblings_back_to_back(requests: list[Request], result: Plan) -> str:
    family = {r.id: r.family for r in requests}
    by_family: dict[str, list[tuple[datetime, datetime]]] = {}
    for p in result.placements:
        by_family.setdefault(family[p.request_id], []).append((p.start, p.end))
    pairs = [sorted(t) for t in by_family.values() if len(t) == 2]
    adjacent = sum(1 for a, b in pairs if a[1] == b[0])
    return f"{adjacent}/{len(pairs)}"


# -- the national March ---------------------------------------------------------------------------


def national_school(rng: random.Random, school: int) -> tuple[list[Request], list[Availability]]:
    # The school's results come in on one day (13-18 March); its staff publish a few afternoons
    # from the next working day up to Monday 23 March (24 March minus one working day).
    results_in = date(2026, 3, rng.choice([13, 16, 16, 17, 17, 18]))
    days = [d for d in working_days(results_in, 8)[1:] if d <= date(2026, 3, 23)]
    latest_end = at(date(2026, 3, 23), 18)
    classes = rng.choice([1, 1, 2, 2, 3])
    availability: list[Availability] = []
    groups: list[tuple[str, ...]] = []
    for c in range(classes):
        duo = rng.random() < 0.3
        teachers = [f"s{school}-l{c}a", f"s{school}-l{c}b"] if duo else [f"s{school}-l{c}"]
        for teacher in teachers:
            afternoons = sorted(rng.sample(days, k=min(len(days), rng.choice([2, 3, 3, 4]))))
            windows = tuple(Window(at(d, 14, 30), at(d, 16, 30)) for d in afternoons)
            availability.append(Availability(teacher, windows, f"s{school}-lokaal{c}"))
        groups.append(tuple(teachers))
    with_ib = rng.random() < 0.3  # the intern begeleider attends every talk
    ib = f"s{school}-ib"
    if with_ib:
        afternoons = sorted(rng.sample(days, k=min(len(days), 3)))
        windows = tuple(Window(at(d, 13), at(d, 17)) for d in afternoons)
        availability.append(Availability(ib, windows, f"s{school}-ib-kamer"))
    requests = []
    for t in range(rng.choice([2, 3, 4, 4, 5, 5, 6, 7])):
        group = rng.choice(groups)
        unavailable: tuple[Window, ...] = ()
        if rng.random() < 0.15:
            day = rng.choice(days)
            unavailable = (Window(at(day, 8), at(day, 18)),)
        duo = len(group) > 1
        requests.append(
            Request(
                id=f"s{school}-t{t}",
                family=f"s{school}-g{t}",
                staff=((ib,) if with_ib else ()) + (() if duo else group),
                staff_any=(group,) if duo else (),
                duration=timedelta(minutes=30),
                earliest=at(days[0], 8),
                latest_end=latest_end,
                unavailable=unavailable,
            )
        )
    return requests, availability


def plan_schools(
    schools: list[tuple[list[Request], list[Availability]]], time_limit_s: float, seed: int
) -> tuple[int, int, Counter[str], float]:
    """Placed, requested, the reasons for the rest, and the CPU seconds it took."""
    placed = total = 0
    codes: Counter[str] = Counter()
    cpu = time.process_time()
    for requests, availability in schools:
        result = plan(requests, availability, time_limit_s=time_limit_s, seed=seed)
        placed += len(result.placements)
        total += len(requests)
        codes.update(u.code for u in result.unplaced)
    return placed, total, codes, time.process_time() - cpu


def bench_national(seed: int, schools: int, workers: int, time_limit_s: float) -> None:
    rng = random.Random(seed)
    instances = [national_school(rng, s) for s in range(schools)]
    chunks = [instances[i :: workers * 8] for i in range(workers * 8)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        outcomes = list(
            pool.map(plan_schools, chunks, [time_limit_s] * len(chunks), [seed] * len(chunks))
        )
    seconds = time.perf_counter() - started
    with ProcessPoolExecutor(max_workers=workers) as pool:  # the greedy plan alone, untimed
        greedy = list(pool.map(plan_schools, chunks, [0.0] * len(chunks), [seed] * len(chunks)))
    placed = sum(o[0] for o in outcomes)
    total = sum(o[1] for o in outcomes)
    codes: Counter[str] = Counter()
    for o in outcomes:
        codes.update(o[2])
    print(
        json.dumps(
            {
                "bench": "national_march",
                "schools": schools,
                "talks": total,
                "placed_before_deadline": placed,
                "share_placed": round(placed / total, 4),
                "greedy_share_placed": round(sum(o[0] for o in greedy) / total, 4),
                "seconds": round(seconds, 1),
                "talks_planned_per_second": round(total / seconds, 1),
                "talks_planned_per_cpu_second": round(total / sum(o[3] for o in outcomes), 1),
                "workers": workers,
                "solver_time_limit_s_per_school": time_limit_s,
                "unplaced_codes": dict(codes),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["school", "national"])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--schools", type=int, default=6700)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--school-time-limit", type=float, default=2.0)
    parser.add_argument("--national-time-limit", type=float, default=1.0)
    args = parser.parse_args()
    if args.only in (None, "school"):
        bench_school(args.seed, args.school_time_limit)
    if args.only in (None, "national"):
        bench_national(args.seed, args.schools, args.workers, args.national_time_limit)


if __name__ == "__main__":
    main()
