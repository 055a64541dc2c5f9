"""A writer process for the concurrency tests: `python -m tests.integration.concurrent_writer`.

Modes:
- `store URL WRITER N`: N small appends (1-3 events) to random streams straight into the store;
- `commands URL WRITER N`: N pupils enrolled and advised through the command handler;
- `mixed URL WRITER N`: every production write path in turn: one large batch that the store
  sends by COPY (260 pupils, 520 events), then N rounds of a command through the handler (the
  server function on PostgreSQL) and a batch of 10 pupils (the locked transaction).
Prints one JSON line with what it did; any exception ends it with a traceback and exit 1.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from datetime import UTC, date, datetime

from service.advice.batch import BatchItem
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import bootstrap
from service.settings import Settings
from service.store.events import ConcurrencyError, NewEvent
from tests.store_helpers import append
from workflows.commands import Command, EnrolPupil, GiveProvisionalAdvice
from workflows.scale import SchoolAdvice


def store_mode(url: str, writer: int, n: int) -> dict[str, int]:
    container = bootstrap(Settings(database_url=url))
    store = container.store
    rnd = random.Random(writer)
    events = conflicts = 0
    for i in range(n):
        stream = f"s-{rnd.randrange(40)}"
        batch = [
            NewEvent("e", 1, {"w": writer, "i": i, "k": k}, {}) for k in range(rnd.randint(1, 3))
        ]
        try:
            append(
                store, stream, store.stream_version(stream), batch, recorded_at=datetime.now(UTC)
            )
            events += len(batch)
        except ConcurrencyError:
            conflicts += 1
    container.close()
    return {"events": events, "conflicts": conflicts}


def commands_mode(url: str, writer: int, n: int) -> dict[str, int]:
    container = bootstrap(
        Settings(database_url=url), clock=lambda: datetime(2026, 1, 20, 12, tzinfo=UTC)
    )
    context = CommandContext(actor=Actor(f"w{writer}", "leerkracht"))
    done = 0
    for _ in range(n):
        pupil = uuid.uuid4()
        container.trajectories.execute(
            pupil,
            EnrolPupil(
                school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
            ),
            context,
        )
        container.trajectories.execute(
            pupil,
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
            context,
        )
        done += 2
    container.close()
    return {"events": done, "conflicts": 0}


def mixed_mode(url: str, writer: int, n: int) -> dict[str, int]:
    container = bootstrap(
        Settings(database_url=url), clock=lambda: datetime(2026, 1, 20, 12, tzinfo=UTC)
    )
    context = CommandContext(actor=Actor(f"w{writer}", "leerkracht"))
    enrol = EnrolPupil(
        school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    advise = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    done = 0

    def batch(pupils: int, commands: list[Command]) -> int:
        items = [BatchItem(uuid.uuid4(), commands, context) for _ in range(pupils)]
        with container.trajectories.batch() as b:
            outcomes = b.execute(items)
        assert all(o.accepted for o in outcomes)
        return sum(len(o.event_types) for o in outcomes)

    done += batch(260, [enrol, advise])  # 520 events: COPY on PostgreSQL
    for _ in range(n):
        pupil = uuid.uuid4()
        done += len(container.trajectories.execute_all(pupil, [enrol], context).event_types)
        done += len(container.trajectories.execute(pupil, advise, context).event_types)
        done += batch(10, [enrol])
    container.close()
    return {"events": done, "conflicts": 0}


MODES = {"store": store_mode, "commands": commands_mode, "mixed": mixed_mode}

if __name__ == "__main__":
    mode, url, writer, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    run = MODES[mode]
    print(json.dumps(run(url, writer, n)))
