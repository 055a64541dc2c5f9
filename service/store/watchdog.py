"""A client-side deadline for PostgreSQL connections whose server stopped answering.

`statement_timeout` is enforced by the server: a server that is frozen (SIGSTOP, a hung host, a
paused VM) enforces nothing, and the kernel keeps acknowledging TCP, so keepalives and
`tcp_user_timeout` see a healthy peer. Every request holding a pooled connection then waits as
long as the freeze lasts (the pg-freeze fault probe measured 16.2 s for a 14 s freeze).

The watchdog keeps the checkout time of every pooled connection. Once one has been in use for
longer than `suspect_after` seconds, it asks the server for `SELECT 1` on a fresh connection. A
server that answers, or refuses with an error of its own (too many clients, starting up), is
alive: slow work is left to the server's own statement timeout (a long import, a lock wait). A
server that gives no answer within `probe_timeout` seconds is not serving anyone: the socket of
every connection in use is shut down, so each blocked call returns at once with a connection
error, which the API answers as 503 with Retry-After and the pool discards. Shutting down (not
closing) leaves the file descriptor to its owner, so no other connection can receive it by reuse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

TICK = 0.5  # seconds between looks at the connections in use
LINGER = 10.0  # seconds the watching thread stays after the last connection came back


class Watchdog:
    def __init__(
        self,
        engine: Engine,
        connect_args: dict[str, Any],
        suspect_after: float,
        probe_timeout: float,
    ) -> None:
        self.suspect_after = suspect_after
        self.probe_timeout = probe_timeout
        self.in_use: dict[int, tuple[Any, float]] = {}  # id(dbapi connection) -> (it, since)
        self.lock = threading.Lock()
        self.watching = False
        self.next_probe = 0.0
        self.broken_off = 0  # connections shut down so far (for tests and logs)
        # The probe connects like the pool does, without a pool and without the pool's events.
        self.probe_engine = create_engine(engine.url, poolclass=NullPool, connect_args=connect_args)
        event.listen(engine, "checkout", self._checked_out)
        event.listen(engine, "checkin", self._forget)
        event.listen(engine, "close", self._forget)
        event.listen(engine, "invalidate", self._invalidated)
        event.listen(engine, "detach", self._forget)  # the pool lets go of it: so do we

    def _checked_out(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with self.lock:
            self.in_use[id(dbapi_connection)] = (dbapi_connection, time.monotonic())
            if not self.watching:
                self.watching = True
                threading.Thread(
                    target=_watch, args=(weakref.ref(self),), name="pg-watchdog", daemon=True
                ).start()

    def _invalidated(self, dbapi_connection: Any, record: Any, _error: Any) -> None:
        self._forget(dbapi_connection, record)

    def _forget(self, dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            with self.lock:
                self.in_use.pop(id(dbapi_connection), None)

    def look(self, now: float) -> None:
        """Probe when a connection is in use too long; break all off when nobody answers."""
        with self.lock:
            suspect = any(now - since > self.suspect_after for _, since in self.in_use.values())
        if not suspect or now < self.next_probe:
            return
        if self.server_answers():
            self.next_probe = time.monotonic() + self.suspect_after
            return
        with self.lock:
            everything = [connection for connection, _ in self.in_use.values()]
        count = sum(_shut_down(connection) for connection in everything)
        self.broken_off += count
        if count:
            log.warning(
                "database server gave no answer within %.1f s: broke off %d connection(s) in use",
                self.probe_timeout,
                count,
            )

    def server_answers(self) -> bool:
        """True when the server answers a fresh connection within `probe_timeout` seconds, with
        a result or with an error of its own (it is alive, only busy or starting)."""
        done = threading.Event()
        answered: list[bool] = []

        def probe() -> None:
            try:
                with self.probe_engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                answered.append(True)
            except DBAPIError as error:
                answered.append(bool(getattr(error.orig, "sqlstate", None)))
            except Exception:
                answered.append(False)
            finally:
                done.set()

        # A thread of its own: a frozen server also holds the probe's statement, for ever.
        threading.Thread(target=probe, name="pg-watchdog-probe", daemon=True).start()
        return done.wait(self.probe_timeout) and answered == [True]


def _watch(ref: weakref.ref[Watchdog]) -> None:
    idle_since: float | None = None
    while True:
        dog = ref()
        if dog is None:
            return
        now = time.monotonic()
        with contextlib.suppress(Exception):  # the watchdog itself must never die
            dog.look(now)
        with dog.lock:
            if dog.in_use:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since > LINGER:
                dog.watching = False  # the next checkout starts a new thread
                return
        del dog  # no reference while asleep: an engine no longer used can be collected
        time.sleep(TICK)


def _shut_down(connection: Any) -> bool:
    """Shut the connection's socket down for both directions through a duplicate descriptor."""
    try:
        duplicate = socket.socket(fileno=os.dup(connection.fileno()))
    except Exception:  # closed meanwhile
        return False
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
        return True
    except OSError:
        return False
    finally:
        duplicate.close()
