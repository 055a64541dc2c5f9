"""A writer process for the concurrency tests: `python -m tests.integration.concurrent_writer`.

Modes:
- `store URL WRITER N`: N small appends (1-3 events) to random streams straight into the store;
- `commands URL WRITER N`: N pupils enrolled and advised through the command handler.
Prints one JSON line with what it did; any exception ends it with a traceback and exit 1.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from datetime import UTC, date, datetime

from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import bootstrap
from service.settings import Settings
from service.store.events import ConcurrencyError, NewEvent
from service.store.sql import SqlEventStore
from workflows.commands import EnrolPupil, GiveProvisionalAdvice
from workflows.scale import SchoolAdvice


def store_mode(url: str, writer: int, n: int) -> dict[str, int]:
    container = bootstrap(Settings(database_url=url))
    store: SqlEventStore = container.store
    rnd = random.Random(writer)
    events = conflicts = 0
    for i in range(n):
        stream = f"s-{rnd.randrange(40)}"
        batch = [
            NewEvent("e", 1, {"w": writer, "i": i, "k": k}, {}) for k in range(rnd.randint(1, 3))
        ]
        try:
            store.append(stream, store.stream_version(stream), batch, recorded_at=datetime.now(UTC))
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


if __name__ == "__main__":
    mode, url, writer, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    run = store_mode if mode == "store" else commands_mode
    print(json.dumps(run(url, writer, n)))
