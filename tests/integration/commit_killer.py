"""A process killed in the middle of a commit: `python -m tests.integration.commit_killer URL`.

It commits 600 events (COPY on PostgreSQL) with a row of its own that says so on stdout and then
waits to be killed, so the test kills it after the events were sent but before the commit ends.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

from service.store.engine import make_engine
from service.store.events import NewEvent, StoredEvent
from service.store.keys import KeyRing
from service.store.port import Append, UnitOfWork
from service.store.sql import make_store


def main(url: str) -> None:
    store = make_store(make_engine(url), KeyRing.generate())

    def wait_to_be_killed(driver: Any, stored: list[StoredEvent]) -> None:
        driver.flush()
        print("inside the commit", flush=True)
        time.sleep(120)

    appends = [
        Append(
            f"k-{n}", 0, [NewEvent("something_happened", 1, {"n": n, "i": i}, {}) for i in range(6)]
        )
        for n in range(100)
    ]
    with store.session(exclusive=True) as session:
        session.commit(UnitOfWork(datetime.now(UTC), appends, joined=[wait_to_be_killed]))


if __name__ == "__main__":
    main(sys.argv[1])
