"""How many decide+evolve cycles one core does over a 20-event history (issue 3's target: 20,000/s).

Three ways, printed as JSON lines:
- `full`: decide(history, command, now) folds the 20 events, decides, vets; then evolve the result;
- `snapshot`: decide_on(state, ...) from an already-folded state (what a read model gives);
- `machine_per_request`: `full`, but with a new `transitions.Machine` built for every cycle instead
  of the shared one, which is what the design forbids; plus its construction cost and memory.

Run: .venv/bin/python -m bench.domain_cycles [--seconds 6 --rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

from workflows import commands as c
from workflows import decide as decide_module
from workflows.codec import Event
from workflows.decide import decide, decide_on
from workflows.enums import AdviceKind, ConversationParty, KeepReason
from workflows.machine import build_conversation_machine, build_machine, fire, fire_conversation
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import evolve, fold

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def twenty_event_history() -> list[Event]:
    def at(day: int, hour: int = 15) -> datetime:
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    steps: list[tuple[c.Command, datetime]] = [
        (
            c.EnrolPupil(
                school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
            ),
            datetime(2025, 8, 25, 12, tzinfo=UTC),
        ),
        (
            c.GiveProvisionalAdvice(advice=SchoolAdvice.VMBO_GLTL, given_on=date(2026, 1, 20)),
            datetime(2026, 1, 20, 12, tzinfo=UTC),
        ),
        (
            c.CorrectProvisionalAdvice(
                advice=SchoolAdvice.VMBO_GLTL_TM_HAVO,
                corrected_on=date(2026, 1, 22),
                reason="typefout",
            ),
            datetime(2026, 1, 22, 12, tzinfo=UTC),
        ),
        (
            c.RecordNationalRegistration(kind=AdviceKind.PROVISIONAL, sent_on=date(2026, 1, 27)),
            datetime(2026, 1, 27, 12, tzinfo=UTC),
        ),
        (
            c.RecordOkrConversation(held_on=date(2026, 2, 1), parents_saw_okr=True),
            datetime(2026, 2, 1, 12, tzinfo=UTC),
        ),
        (
            c.RecordTestMissed(missed_on=date(2026, 2, 3), reason="ziek"),
            datetime(2026, 2, 3, 12, tzinfo=UTC),
        ),
        (c.PlanCatchUpTest(planned_on=date(2026, 2, 20)), datetime(2026, 2, 4, 12, tzinfo=UTC)),
        (
            c.ReceiveTestResult(
                provider="IEP",
                delivery_id="d1",
                test_advice=TestAdvice.HAVO_VWO,
                received_on=date(2026, 3, 10),
            ),
            at(10),
        ),
        (c.PlanConversation(planned_at=at(12)), at(10, 9)),
        (c.MoveConversation(planned_at=at(13), reason="ziek"), at(11)),
        (c.MoveConversation(planned_at=at(14), reason="werk"), at(12, 9)),
        (c.CancelConversation(cancelled_on=date(2026, 3, 13), reason="afgezegd"), at(13)),
        (c.PlanConversation(planned_at=at(16)), at(13)),
        (
            c.RecordConversationHeld(
                held_on=date(2026, 3, 16),
                attendees=(ConversationParty.PARENTS, ConversationParty.PUPIL),
            ),
            at(16, 18),
        ),
        (
            c.KeepAdvice(
                decided_on=date(2026, 3, 16),
                reason=KeepReason.WORK_ATTITUDE,
                motivation="Werkhouding.",
            ),
            at(16, 18),
        ),
        (
            c.RaiseAdvice(
                advice=SchoolAdvice.HAVO,
                decided_on=date(2026, 3, 17),
                reason=KeepReason.SUPPORT_NEEDS,
                motivation="Met begeleiding.",
            ),
            at(17),
        ),
        (c.RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=date(2026, 3, 17)), at(17)),
        (
            c.ReceiveObjection(objection_id="o1", received_on=date(2026, 3, 17), summary="havo?"),
            at(17),
        ),
        (
            c.DecideObjection(
                objection_id="o1",
                decided_on=date(2026, 3, 18),
                granted=False,
                motivation="Besluit blijft.",
            ),
            at(18),
        ),
    ]
    history: list[Event] = []
    for command, now in steps:
        history += decide(history, command, now)
    if len(history) != 20:
        raise SystemExit(f"expected a 20-event history, built {len(history)}")
    return history


COMMAND = c.GiveFinalAdvice(given_on=date(2026, 3, 19))


def measure(cycle: Callable[[], object], seconds: float) -> tuple[float, int]:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            cycle()
        count += 100
    elapsed = time.perf_counter() - start
    return count / elapsed, count


def rounds(cycle: Callable[[], object], seconds: float, n: int) -> dict[str, int]:
    """Median, min and max of `n` rounds: this kind of VM drifts by ±20 % between runs."""
    rates = sorted(measure(cycle, seconds / n)[0] for _ in range(n))
    return {
        "cycles_per_s": round(statistics.median(rates)),
        "min": round(rates[0]),
        "max": round(rates[-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0, help="per mode, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    history = twenty_event_history()
    state = fold(history)

    def full() -> None:
        current = state
        for event in decide(history, COMMAND, NOW):
            current = evolve(current, event)

    def snapshot() -> None:
        current = state
        for event in decide_on(state, COMMAND, NOW):
            current = evolve(current, event)

    def machine_per_request() -> None:
        decide_module.fire = partial(fire, machine=build_machine())  # type: ignore[assignment]
        decide_module.fire_conversation = partial(  # type: ignore[assignment]
            fire_conversation, machine=build_conversation_machine()
        )
        full()

    results: dict[str, int] = {}
    for name, cycle in (("full", full), ("snapshot", snapshot)):
        figures = rounds(cycle, args.seconds, args.rounds)
        results[name] = figures["cycles_per_s"]
        line = {"lib": "adviestraject", "bench": "domain_cycles", "mode": name}
        print(json.dumps({**line, "history_events": 20, **figures}))
    shared_fire, shared_conv = decide_module.fire, decide_module.fire_conversation
    try:
        per_request = rounds(machine_per_request, args.seconds, args.rounds)
    finally:
        decide_module.fire, decide_module.fire_conversation = shared_fire, shared_conv
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    machines = [build_machine() for _ in range(50)]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_machine = sum(s.size_diff for s in after.compare_to(before, "filename")) / len(machines)
    build_rate, _ = measure(build_machine, min(args.seconds, 1.0))
    line = {"lib": "adviestraject", "bench": "domain_cycles", "mode": "machine_per_request"}
    ratio = round(results["full"] / per_request["cycles_per_s"], 1)
    print(
        json.dumps(
            {
                **line,
                "history_events": 20,
                **per_request,
                "machine_build_us": round(1e6 / build_rate, 1),
                "machine_kib": round(per_machine / 1024, 1),
                "shared_vs_per_request": ratio,
            }
        )
    )


if __name__ == "__main__":
    main()
