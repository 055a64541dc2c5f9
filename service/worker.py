"""The background worker: what happens after a command is acknowledged.

Four loops, each on its own thread, so none can hold another up:
- **intake**: delivered toets results become events (500 per transaction), and the catch-up read
  models follow the log. This is the March deadline's path: a heroverweging must be flagged the
  moment a result lands, whatever else is slow.
- **outbox**: e-mail and the chain's messages to test providers; a provider that answers slowly
  (up to ADVIESTRAJECT_CHAIN_TIMEOUT per message) delays only other outbox messages.
- **housekeeping**: ended sessions and old login attempts, purged hourly; the log's head
  anchored outside the database when it moved (ADVIESTRAJECT_ANCHOR_INTERVAL, checked hourly);
  the whole hash chain verified daily and the result stored (`service.audit.integrity`).
- **talks**: the talks with parents (`service.scheduling.loop`): open requests planned when
  availability is published, reminders before a talk, directie warned when a talk is at risk.

`adviestraject worker` runs the loops in a process of their own (PostgreSQL, compose);
`adviestraject serve` runs them beside the HTTP server in its own process when the database is
SQLite (`beside_the_server`, ADVIESTRAJECT_EMBEDDED_WORKER), so that `make run` alone also turns
delivered results into heroverwegingen and sends the e-mail.

A loop survives every exception: it logs it with its traceback, records it on the status board
(`service.worker_status`), waits (doubling from `backoff_start` up to `backoff_cap` while the
failures go on) and tries again; a database that is down for an hour is caught up with when it
is back. An item that fails on its own (a delivery, an outbox message) is retried a few times and
then marked failed with its reason, so it never blocks the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from service.audit.anchors import write_anchor_if_due
from service.audit.integrity import check_if_due
from service.bootstrap import Container, bootstrap
from service.dbfaults import outage
from service.intake.processing import Attempts, process_pending
from service.projections.rebuild import CATCH_UP
from service.projections.runner import catch_up
from service.scheduling import loop as talk_loop
from service.scheduling.loop import talk_rounds
from service.settings import Settings
from service.worker_status import StatusBoard

log = logging.getLogger("adviestraject.worker")

HOUSEKEEPING_EVERY = 3600.0  # seconds between purges of ended sessions and old login attempts
ONCE_GIVES_UP_AFTER = 3  # failures in a row after which `--once` stops trying
STOP_WAITS = 30.0  # seconds `beside_the_server` waits for the loops to finish their step


@dataclass(frozen=True)
class Loop:
    name: str
    step: Callable[[], int]  # one round; how much it did (0: nothing waiting)
    idle: float  # seconds to wait after a round that found nothing


def intake_round(container: Container, attempts: Attempts | None = None) -> int:
    """Deliveries into events, then the catch-up read models; how much was done."""
    done = process_pending(container, attempts=attempts)
    for projection in CATCH_UP.values():
        done += catch_up(container.engine, projection)
    return done


def housekeeping(container: Container) -> int:
    container.sessions.purge_expired()
    container.throttle.prune()
    # The log's head, anchored outside the database when due (service/audit/anchors.py).
    write_anchor_if_due(container, container.clock())
    # The whole chain verified and the result stored, daily (service/audit/integrity.py).
    check_if_due(container)
    return 0


def loops(container: Container, interval: float, board: StatusBoard) -> list[Loop]:
    """The standard loops; an item that fails on its own is reported on `board` too."""
    attempts = Attempts(
        on_failure=lambda delivery_id, error: board.item_failed(
            "intake", f"delivery {delivery_id}", error
        )
    )
    outbox = container.outbox_worker()
    outbox.report_failures_to(
        lambda message, error: board.item_failed("outbox", f"message {message.id}", error)
    )
    return [
        Loop("intake", lambda: intake_round(container, attempts), interval),
        Loop("outbox", outbox.run_once, interval),
        Loop("housekeeping", lambda: housekeeping(container), HOUSEKEEPING_EVERY),
        # talks with parents: planned when availability comes, reminders, directie warned
        Loop("talks", talk_rounds(container.talks), max(interval, talk_loop.IDLE)),
    ]


def work(
    container: Container,
    stopping: threading.Event,
    *,
    once: bool = False,
    interval: float = 1.0,
    backoff_start: float = 0.5,
    backoff_cap: float = 60.0,
    only: Callable[[StatusBoard], list[Loop]] | None = None,
) -> StatusBoard:
    """Run the loops until `stopping` is set (or, with `once`, until none has work); the board
    tells how each loop ended. `only` builds other loops than the standard ones (tests inject
    faulty ones)."""
    board = StatusBoard(container.settings.worker_status_dir)
    running = only(board) if only is not None else loops(container, interval, board)
    threads = [
        threading.Thread(
            target=_run,
            args=(loop, board, stopping, once, backoff_start, backoff_cap),
            name=loop.name,
            daemon=True,
        )
        for loop in running
    ]
    for thread in threads:
        thread.start()
    try:
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)  # wakes for signals in the main thread
        except KeyboardInterrupt:
            stopping.set()
        for thread in threads:
            thread.join()  # each finishes the step it is in: nothing is cut off half-way
    finally:
        board.close()
    return board


def wait_for_database(
    ready: Callable[[], object],
    stopping: threading.Event,
    *,
    backoff_start: float = 0.5,
    backoff_cap: float = 30.0,
) -> bool:
    """Call `ready` until the database answers it; False when stopped first.

    A worker started while the database is restarting (compose starting both, a failover)
    waits for it as its loops would, instead of exiting; an error that is not an outage (no
    schema, a wrong password) is raised at once.
    """
    failures = 0
    while not stopping.is_set():
        try:
            ready()
            return True
        except Exception as error:
            down = outage(error)
            if down is None:
                raise
            failures += 1
            delay = backoff(failures, backoff_start, backoff_cap)
            log.warning(
                "database unavailable at start (%s), try %d, next in %.1f s",
                down.reason,
                failures,
                delay,
            )
            stopping.wait(delay)
    return False


def backoff(failures: int, start: float, cap: float) -> float:
    """Seconds to wait after `failures` failures in a row: doubling from `start`, at most `cap`."""
    return min(cap, start * 2.0 ** min(failures - 1, 64))


def _run(
    loop: Loop,
    board: StatusBoard,
    stopping: threading.Event,
    once: bool,
    backoff_start: float,
    backoff_cap: float,
) -> None:
    failures = 0
    while not stopping.is_set():
        try:
            done = loop.step()
        except Exception as error:
            failures += 1
            delay = backoff(failures, backoff_start, backoff_cap)
            board.failed(loop.name, error)
            down = outage(error)
            if down is not None and failures > 1:
                # the database is still away: one line per try, the traceback was logged once
                log.warning(
                    "%s loop: database still unavailable (%s), try %d, next in %.1f s",
                    loop.name,
                    down.reason,
                    failures,
                    delay,
                    extra={"loop": loop.name},
                )
            else:
                log.exception(
                    "%s loop failed (%d in a row), next try in %.1f s",
                    loop.name,
                    failures,
                    delay,
                    extra={"loop": loop.name},
                )
            if once and failures >= ONCE_GIVES_UP_AFTER:
                return
            stopping.wait(delay)
            continue
        if failures:
            log.info("%s loop works again after %d failures", loop.name, failures)
        failures = 0
        board.succeeded(loop.name)
        if once and not done:
            return
        if not done:
            stopping.wait(loop.idle)


@contextmanager
def beside_the_server(settings: Settings, *, interval: float = 1.0) -> Iterator[threading.Event]:
    """The worker's loops on threads of this process while the block runs (the HTTP server);
    at its end they finish the step they are in and stop. Its own container: its own
    connections, with the configured statement timeout. Yields the event that stops them."""
    container = bootstrap(settings)
    stopping = threading.Event()
    thread = threading.Thread(
        target=work,
        args=(container, stopping),
        kwargs={"interval": interval},
        name="embedded-worker",
        daemon=True,  # a step that hangs past STOP_WAITS does not keep the process alive
    )
    thread.start()
    log.info("worker runs beside the server (ADVIESTRAJECT_EMBEDDED_WORKER)")
    try:
        yield stopping
    finally:
        stopping.set()
        thread.join(timeout=STOP_WAITS)
        if thread.is_alive():
            log.warning("worker loops still busy after %.0f s: left behind", STOP_WAITS)
        else:
            container.close()
