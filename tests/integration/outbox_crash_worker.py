"""A worker process that dies after handling some messages, before marking them done.

Run as `python -m tests.integration.outbox_crash_worker URL LOG DIE_AFTER`: it handles messages
by appending their id to LOG (the invocation record) and writing an effect file per message id
(the idempotent effect), and calls os._exit after DIE_AFTER handler calls.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.outbox.outbox import Message, OutboxWorker
from service.store.engine import make_engine


def main() -> None:
    url, log, die_after = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    calls = 0

    def handle(message: Message) -> None:
        nonlocal calls
        with log.open("a") as out:
            out.write(f"{message.id}\n")
        (log.parent / f"effect-{message.id}").write_text(message.stream_id)
        calls += 1
        if calls == die_after:
            os._exit(17)  # dies with the batch claimed and this message not marked done

    engine = make_engine(url)
    worker = OutboxWorker(
        engine,
        {"t": handle},
        lambda: datetime.now(UTC),
        lease=timedelta(seconds=float(os.environ.get("LEASE", "30"))),
    )
    while worker.run_once(limit=10):
        pass


if __name__ == "__main__":
    main()
