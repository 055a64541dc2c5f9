"""The background worker: what happens after a command is acknowledged.

Two loops, each on its own thread, so neither can hold the other up:
- **intake**: delivered toets results become events (500 per transaction), and the catch-up read
  models follow the log. This is the March deadline's path: a heroverweging must be flagged the
  moment a result lands, whatever else is slow.
- **outbox**: e-mail and the chain's messages to test providers; a provider that answers slowly
  (up to ADVIESTRAJECT_CHAIN_TIMEOUT per message) delays only other outbox messages.
Housekeeping (ended sessions, old login attempts) runs hourly on the intake thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from service.audit.anchors import write_anchor_if_due
from service.bootstrap import Container
from service.intake.processing import process_pending
from service.projections.rebuild import CATCH_UP
from service.projections.runner import catch_up

HOUSEKEEPING_EVERY = 3600.0  # seconds between purges of ended sessions and old login attempts


def intake_round(container: Container) -> int:
    """Deliveries into events, then the catch-up read models; how much was done."""
    done = process_pending(container)
    for projection in CATCH_UP.values():
        done += catch_up(container.engine, projection)
    return done


def work(
    container: Container,
    stopping: threading.Event,
    *,
    once: bool = False,
    interval: float = 1.0,
) -> None:
    """Run both loops until `stopping` is set (or, with `once`, until neither has work)."""
    outbox = container.outbox_worker()
    tidied_at = -HOUSEKEEPING_EVERY

    def intake() -> int:
        nonlocal tidied_at
        if time.monotonic() - tidied_at >= HOUSEKEEPING_EVERY:
            tidied_at = time.monotonic()
            container.sessions.purge_expired()
            container.throttle.prune()
        # Anchor the log's head outside the database when due (cheap when not: one file read).
        write_anchor_if_due(container, container.clock())
        return intake_round(container)

    loops = [
        threading.Thread(
            target=_loop, args=(intake, stopping, once, interval), name="intake", daemon=True
        ),
        threading.Thread(
            target=_loop,
            args=(outbox.run_once, stopping, once, interval),
            name="outbox",
            daemon=True,
        ),
    ]
    for loop in loops:
        loop.start()
    try:
        for loop in loops:
            while loop.is_alive():
                loop.join(timeout=0.5)  # wakes for signals in the main thread
    except KeyboardInterrupt:
        stopping.set()
    for loop in loops:
        loop.join()  # each finishes the step it is in: nothing is cut off half-way


def _loop(step: Callable[[], int], stopping: threading.Event, once: bool, interval: float) -> None:
    while not stopping.is_set():
        done = step()
        if once and not done:
            return
        if not done:
            stopping.wait(interval)
