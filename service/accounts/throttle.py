"""Rate limiting of logins (people and machine clients): per account and per address, per endpoint.

An attempt is counted *before* any password is checked, by one atomic upsert per key on
`throttle_counters` (`INSERT … ON CONFLICT DO UPDATE … RETURNING`): the row lock serialises
concurrent attempts on PostgreSQL, BEGIN IMMEDIATE does on SQLite, so a parallel burst from any
number of API workers gets exactly the limit of password checks and the rest a 429. The address
is counted first; an attempt the account's limit refuses gives its address slot back.

Keys are per endpoint (`web:` for the website's login, `oauth:` for the token endpoint), so failed
client exchanges that name a teacher's e-mail address do not pause her website login. A window
starts at the first attempt after the previous one ended and lasts `window`; a success ends the
account's window and gives back its address slot (a school's shared address counts failures,
not its teachers logging in). Every checked attempt is also written to `login_attempts`, kept
for security questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, bindparam, case, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from service.store.schema import UTCDateTime, login_attempts, throttle_counters

Endpoint = Literal["web", "oauth"]


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 30
    window: timedelta = timedelta(minutes=15)


class LoginThrottle:
    def __init__(
        self, engine: Engine, clock: Callable[[], datetime], limits: Limits = Limits()
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.limits = limits

    def admit(self, endpoint: Endpoint, account: str, address: str) -> int:
        """Count an attempt; 0 when its password may be checked now, else the seconds to wait.

        Call `settle` after the check. An attempt that is refused here checks no password."""
        now = self._clock()
        by_address = _key(endpoint, "address", address[:64])
        by_account = _key(endpoint, "account", account[:320])
        with self._engine.begin() as conn:
            wait = self._count(conn, by_address, self.limits.per_address, now)
            if wait:
                return wait
            wait = self._count(conn, by_account, self.limits.per_account, now)
            if wait:
                _give_back(conn, by_address)
            return wait

    def settle(self, endpoint: Endpoint, account: str, address: str, *, succeeded: bool) -> None:
        """Record the outcome of an admitted attempt; a success starts the account afresh."""
        with self._engine.begin() as conn:
            if succeeded:
                _give_back(conn, _key(endpoint, "address", address[:64]))
                conn.execute(
                    delete(throttle_counters).where(
                        throttle_counters.c.key == _key(endpoint, "account", account[:320])
                    )
                )
            conn.execute(
                insert(login_attempts).values(
                    at=self._clock(),
                    account=account[:320],
                    address=address[:64],
                    succeeded=succeeded,
                    endpoint=endpoint,
                )
            )

    def prune(self, keep: timedelta = timedelta(days=90)) -> int:
        """Forget attempts older than `keep` (kept that long for security questions) and
        counters whose window has ended."""
        now = self._clock()
        with self._engine.begin() as conn:
            gone = conn.execute(delete(login_attempts).where(login_attempts.c.at < now - keep))
            conn.execute(
                delete(throttle_counters).where(
                    throttle_counters.c.window_started_at <= now - self.limits.window
                )
            )
        return int(gone.rowcount)

    def _count(self, conn: Connection, key: str, limit: int, now: datetime) -> int:
        counters = throttle_counters.c
        at = bindparam("now", now, type_=UTCDateTime())
        ended = counters.window_started_at <= bindparam(
            "since", now - self.limits.window, type_=UTCDateTime()
        )
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(throttle_counters).values(key=key, window_started_at=at, attempts=1)
        row = conn.execute(
            upsert.on_conflict_do_update(
                index_elements=[counters.key],
                set_={
                    "attempts": case((ended, 1), else_=counters.attempts + 1),
                    "window_started_at": case((ended, at), else_=counters.window_started_at),
                },
            ).returning(counters.attempts, counters.window_started_at)
        ).one()
        if row.attempts <= limit:
            return 0
        free_at: datetime = row.window_started_at + self.limits.window
        return max(1, int((free_at - now).total_seconds()) + 1)


def _key(endpoint: Endpoint, kind: str, value: str) -> str:
    return f"{endpoint}:{kind}:{value}"


def _give_back(conn: Connection, key: str) -> None:
    counters = throttle_counters.c
    conn.execute(
        update(throttle_counters)
        .where(counters.key == key, counters.attempts > 0)
        .values(attempts=counters.attempts - 1)
    )
