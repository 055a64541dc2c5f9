"""The parents' links: a secret token per (talk, parent) that opens `/ouders/{token}`.

A token is random (`secrets.token_urlsafe(32)`, 256 bits) and exists in plain text only in the
e-mail; the table keeps its sha256. It is single purpose: it names one talk and one parent, and
the parents' page lets it act on that talk alone, as that parent. One token per (talk, parent)
is live: every new e-mail about the talk (invitation, moved, reminder) carries a new one and
retires the earlier (its page then says a newer e-mail was sent), so a forwarded old e-mail
stops working. A token expires at the end of the talk's deadline day (Europe/Amsterdam), or at
the end of the talk when that is later; once the talk was held or cancelled the page refuses
it as well (the caller checks the talk's status).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select, update

from service.store.schema import parent_tokens

DUTCH = ZoneInfo("Europe/Amsterdam")
MAX_TOKEN_LENGTH = 200

State = Literal["open", "unknown", "expired", "replaced"]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deadline_day(deadline: datetime) -> date:
    """The Dutch day a deadline moment belongs to (a deadline at midnight ends the day before)."""
    return (deadline.astimezone(DUTCH) - timedelta(microseconds=1)).date()


def expiry(deadline: datetime, talk_end: datetime | None = None) -> datetime:
    """The end of the deadline's day in the Netherlands, or the talk's end when that is later."""
    day = deadline_day(deadline) + timedelta(days=1)
    end_of_day = datetime.combine(day, time(0, 0), tzinfo=DUTCH)
    if talk_end is not None and talk_end > end_of_day:
        return talk_end
    return end_of_day


@dataclass(frozen=True)
class TokenState:
    state: State
    talk_id: str = ""
    parent_id: str = ""
    expires_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state == "open"


class ParentTokens:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def issue(self, talk_id: str, parent_id: str, expires_at: datetime) -> str:
        """A new token for this parent and talk; an earlier live one is retired. The plain
        token is returned once, for the e-mail, and never stored."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                update(parent_tokens)
                .where(
                    parent_tokens.c.talk_id == talk_id,
                    parent_tokens.c.parent_id == parent_id,
                    parent_tokens.c.replaced_at.is_(None),
                )
                .values(replaced_at=now)
            )
            conn.execute(
                insert(parent_tokens).values(
                    id=str(uuid.uuid4()),
                    token_hash=digest(token),
                    talk_id=talk_id,
                    parent_id=parent_id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return token

    def check(self, token: str) -> TokenState:
        """What the token opens, if anything: `open` with its talk and parent, or why not."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return TokenState("unknown")
        with self._engine.connect() as conn:
            row = conn.execute(
                select(parent_tokens).where(parent_tokens.c.token_hash == digest(token))
            ).first()
        if row is None:
            return TokenState("unknown")
        state: State = "open"
        if row.replaced_at is not None:
            state = "replaced"
        elif row.expires_at <= self._clock():
            state = "expired"
        return TokenState(state, row.talk_id, row.parent_id, row.expires_at)
