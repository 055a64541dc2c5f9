"""Machine clients: a test provider's system, with credentials of its own (not a person's).

A client is an account of role `toetsaanbieder` scoped to the schools that mandated the
provider, without a password (it cannot use the website), plus a client id and a secret (256
random bits, shown once, stored as sha256). It trades them at the token endpoint (OAuth 2.0
client credentials, RFC 6749 §4.4) for a short-lived bearer token; revoking the client refuses
every further exchange, and the tokens it already has expire within the hour.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, select, update

from service.accounts.accounts import (
    AccountError,
    Accounts,
    IssuedToken,
    issue_token_for,
    normalise_email,
)
from service.accounts.roles import Role, Scope
from service.accounts.secrets import token_digest
from service.store.schema import client_credentials, users

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
CLIENT_PREFIX = "cl_"
_UNKNOWN_SECRET = token_digest(secrets.token_urlsafe(32))  # compared with when no client matches


@dataclass(frozen=True)
class IssuedClient:
    client_id: str
    client_secret: str  # the only time it is seen in plain text


class MachineClients:
    def __init__(self, engine: Engine, accounts: Accounts, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._accounts = accounts
        self._clock = clock

    def add(self, contact_email: str, name: str, school_ids: Sequence[str]) -> IssuedClient:
        """A new client for a provider's system at these schools; `contact_email` is whom the
        school's IT reaches about it (it is also the account's name in `user list`)."""
        who = self._accounts.add_user(
            contact_email, name, Role.TOETSAANBIEDER, [Scope(s) for s in school_ids]
        )
        return self._credential(who.user_id)

    def new_secret(self, contact_email: str) -> IssuedClient:
        """Fresh credentials for an existing client (the old ones stop working)."""
        with self._engine.connect() as conn:
            user_id = conn.execute(
                select(users.c.id).where(
                    users.c.email == normalise_email(contact_email),
                    users.c.role == Role.TOETSAANBIEDER.value,
                )
            ).scalar()
        if user_id is None:
            raise AccountError("client_unknown", f"geen toetsaanbieder-koppeling {contact_email}")
        self._revoke(client_credentials.c.user_id == user_id)
        return self._credential(str(user_id))

    def revoke(self, client_id: str) -> None:
        if not self._revoke(client_credentials.c.client_id == client_id):
            raise AccountError("client_unknown", f"geen geldige koppeling met id {client_id}")

    def exchange(self, client_id: str, client_secret: str) -> IssuedToken | None:
        """A short-lived access token for valid, unrevoked credentials of an active client."""
        now = self._clock()
        with self._engine.begin() as conn:
            row = conn.execute(
                select(client_credentials.c.secret_hash, users.c.id, users.c.active)
                .join(users, users.c.id == client_credentials.c.user_id)
                .where(
                    client_credentials.c.client_id == client_id,
                    client_credentials.c.revoked_at.is_(None),
                )
            ).first()
            # the same comparison for an unknown client as for a known one
            stored = row.secret_hash if row is not None else _UNKNOWN_SECRET
            if not hmac.compare_digest(stored, token_digest(client_secret)):
                return None
            if row is None or not row.active:
                return None
            return issue_token_for(
                conn,
                row.id,
                "client_credentials",
                now,
                ACCESS_TOKEN_LIFETIME,
                issued_by=f"client:{client_id}",
            )

    def _credential(self, user_id: str) -> IssuedClient:
        issued = IssuedClient(
            CLIENT_PREFIX + secrets.token_hex(16), "adm_" + secrets.token_urlsafe(32)
        )
        with self._engine.begin() as conn:
            conn.execute(
                client_credentials.insert().values(
                    client_id=issued.client_id,
                    user_id=user_id,
                    secret_hash=token_digest(issued.client_secret),
                    created_at=self._clock(),
                )
            )
        return issued

    def _revoke(self, which: ColumnElement[bool]) -> int:
        with self._engine.begin() as conn:
            done = conn.execute(
                update(client_credentials)
                .where(which, client_credentials.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            ).rowcount
        return int(done)
