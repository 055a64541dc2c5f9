"""Rate limiting of logins (people and machine clients): per account and per address.

Each attempt is a row in `login_attempts`, so the limit holds across every API worker and
survives a restart. An account is paused after `per_account` failures within the window (counted
since its last success); an address after `per_address` failures within the window, whatever the
accounts (a school's shared address is why that limit is higher). While paused, no password is
even checked: the answer is 429 with the seconds to wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, delete, func, insert, select

from service.store.schema import login_attempts


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

    def wait_seconds(self, account: str, address: str) -> int:
        """0 when an attempt may be made now; else how long until it may."""
        now = self._clock()
        since = now - self.limits.window
        attempts = login_attempts.c
        last_success = (
            select(func.max(attempts.at))
            .where(attempts.account == account, attempts.succeeded)
            .scalar_subquery()
        )
        by_account = and_(
            attempts.account == account,
            attempts.at > func.coalesce(last_success, since),
        )
        waits = [
            self._wait(by_account, since, self.limits.per_account, now),
            self._wait(attempts.address == address, since, self.limits.per_address, now),
        ]
        return max(waits)

    def _wait(self, which: ColumnElement[bool], since: datetime, limit: int, now: datetime) -> int:
        attempts = login_attempts.c
        with self._engine.connect() as conn:
            failures = (
                conn.execute(
                    select(attempts.at)
                    .where(which, attempts.at > since, attempts.succeeded.is_(False))
                    .order_by(attempts.at.desc())
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        if len(failures) < limit:
            return 0
        # the oldest of the last `limit` failures leaves the window: one more attempt then
        free_at = failures[-1] + self.limits.window
        return max(1, int((free_at - now).total_seconds()) + 1)

    def prune(self, keep: timedelta = timedelta(days=90)) -> int:
        """Forget attempts older than `keep` (kept that long for security questions)."""
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(login_attempts).where(login_attempts.c.at < self._clock() - keep)
            ).rowcount
        return int(gone)

    def record(self, account: str, address: str, *, succeeded: bool) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(login_attempts).values(
                    at=self._clock(),
                    account=account[:320],
                    address=address[:64],
                    succeeded=succeeded,
                )
            )
