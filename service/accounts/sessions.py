"""Web sessions: what a login gives a browser, and what each request with its cookie checks.

The cookie holds 256 random bits; the database holds only their sha256, with the user, the
session's CSRF token (sent back by the browser's forms and scripts on every state-changing
request) and an absolute expiry of one school day. Logging out deletes the row; disabling the
account ends every session at once, because each check joins the account's `active` flag.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert

from service.accounts.accounts import principal_from_rows, principal_select
from service.accounts.roles import Principal
from service.accounts.secrets import token_digest
from service.store.engine import single_statements
from service.store.schema import users, web_sessions

SESSION_LIFETIME = timedelta(hours=9)  # a school day; then log in again


@dataclass(frozen=True)
class NewSession:
    cookie: str  # the only time it exists in plain text
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionUser:
    principal: Principal
    csrf_token: str
    expires_at: datetime


class Sessions:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def start(self, who: Principal, address: str) -> NewSession:
        now = self._clock()
        new = NewSession(
            secrets.token_urlsafe(32), secrets.token_urlsafe(32), now + SESSION_LIFETIME
        )
        with self._engine.begin() as conn:
            conn.execute(
                insert(web_sessions).values(
                    id=token_digest(new.cookie),
                    user_id=who.user_id,
                    csrf_token=new.csrf_token,
                    address=address[:64],
                    created_at=now,
                    expires_at=new.expires_at,
                )
            )
        return new

    def authenticate(self, cookie: str) -> SessionUser | None:
        """The session's user, if the session exists, has not expired and the account is
        active. One statement: it runs on every request that carries the cookie."""
        with single_statements(self._engine).connect() as conn:
            rows = conn.execute(
                principal_select(web_sessions.c.csrf_token, web_sessions.c.expires_at)
                .join(web_sessions, web_sessions.c.user_id == users.c.id)
                .where(web_sessions.c.id == token_digest(cookie))
            ).all()
        if not rows or not rows[0].active or rows[0].expires_at <= self._clock():
            return None
        return SessionUser(principal_from_rows(rows), rows[0].csrf_token, rows[0].expires_at)

    def end(self, cookie: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id == token_digest(cookie)))

    def purge_expired(self) -> int:
        """Delete sessions past their expiry (they no longer authenticate anyway)."""
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(web_sessions).where(web_sessions.c.expires_at <= self._clock())
            ).rowcount
        return int(gone)
