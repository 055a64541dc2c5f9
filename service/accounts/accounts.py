"""User accounts: add and disable users, set passwords, issue and revoke personal API tokens.

Every refusal is an `AccountError` with a stable code and a Dutch message; nothing is written
then. A token is returned in plain text exactly once, when it is made; afterwards only its hash
exists, so a lost token is revoked and replaced, never shown again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, insert, select, update

from service.accounts.access import READERS
from service.accounts.roles import Principal, Role, Scope
from service.accounts.secrets import (
    hash_password,
    new_token,
    password_matches,
    password_problem,
    token_digest,
)
from service.store.engine import single_statements
from service.store.schema import api_tokens, schools, user_schools, users

MAX_TOKEN_DAYS = 365
CLI_ISSUER = "cli"  # `api_tokens.issued_by` of a token made on the server's command line


class AccountError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # the only time it is seen in plain text
    expires_at: datetime


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Account:
    principal: Principal
    active: bool


class Accounts:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def add_user(
        self,
        email: str,
        name: str,
        role: Role,
        scopes: Sequence[Scope] = (),
        password: str | None = None,
    ) -> Principal:
        email = normalise_email(email)
        if not name.strip():
            raise AccountError("name_missing", "geef de naam van de gebruiker")
        if role.needs_school and not scopes:
            raise AccountError("school_missing", f"een {role.label} hoort bij een school")
        if role.needs_class and any(not s.class_name for s in scopes):
            raise AccountError("class_missing", "een leerkracht hoort bij een klas (bijv. 8A)")
        if role is Role.BEHEER and scopes:
            raise AccountError("scope_not_allowed", "beheer hoort niet bij een school")
        if password is not None and (problem := password_problem(password)):
            raise AccountError("password_too_weak", problem)
        user_id = str(uuid.uuid4())
        with self._engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.email == email)).first():
                raise AccountError("email_taken", f"er is al een gebruiker met {email}")
            known = _known_schools(conn, {s.school_id for s in scopes})
            if unknown := sorted({s.school_id for s in scopes} - known):
                raise AccountError("school_unknown", f"onbekende school: {', '.join(unknown)}")
            conn.execute(
                insert(users).values(
                    id=user_id,
                    email=email,
                    name=name.strip(),
                    role=role.value,
                    password_hash=hash_password(password) if password is not None else None,
                    active=True,
                    created_at=self._clock(),
                )
            )
            for scope in dict.fromkeys(scopes):
                conn.execute(
                    insert(user_schools).values(
                        user_id=user_id, school_id=scope.school_id, class_name=scope.class_name
                    )
                )
        return Principal(user_id, email, name.strip(), role, frozenset(scopes))

    def set_password(self, email: str, password: str) -> None:
        if problem := password_problem(password):
            raise AccountError("password_too_weak", problem)
        with self._engine.begin() as conn:
            done = conn.execute(
                update(users)
                .where(users.c.email == normalise_email(email))
                .values(password_hash=hash_password(password))
            ).rowcount
        if not done:
            raise AccountError("user_unknown", f"geen gebruiker {email}")

    def check_password(self, email: str, password: str) -> Principal | None:
        """The user when the password is theirs and the account is active; None otherwise.

        Every call verifies one argon2 hash (a dummy one for an unknown, disabled or
        password-less account), so the time taken does not tell whether an account exists."""
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == normalise_email(email))).first()
        # no connection is held during the verify: it takes ~50 ms of CPU
        usable = row is not None and row.active and row.password_hash is not None
        matches = password_matches(
            row.password_hash if row is not None and usable else None, password
        )
        if row is None or not matches:
            return None
        with self._engine.connect() as conn:
            return _principal(conn, row)

    def disable(self, email: str) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(
                update(users).where(users.c.email == normalise_email(email)).values(active=False)
            ).rowcount
        if not done:
            raise AccountError("user_unknown", f"geen gebruiker {email}")

    def list_users(self) -> list[Principal]:
        return [account.principal for account in self.accounts()]

    def accounts(self, user_id: str | None = None) -> list[Account]:
        """Every account (or the one with `user_id`) with its scopes and whether it is active,
        by e-mail address; one query."""
        query = principal_select().order_by(users.c.email)
        if user_id is not None:
            query = query.where(users.c.id == user_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        by_user: dict[str, list[Row[Any]]] = {}
        for row in rows:
            by_user.setdefault(row.id, []).append(row)
        return [Account(principal_from_rows(group), group[0].active) for group in by_user.values()]

    def issue_token(
        self, email: str, name: str, days: int, *, issued_by: Principal | None = None
    ) -> IssuedToken:
        """A personal token for the account, made by `issued_by` (None: the server's command
        line, whose operator holds the database anyway). Beheer sees no pupils, so it may not
        make a token for an account that does: that would be its key to every pupil."""
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise AccountError(
                "token_days_invalid", f"een token geldt 1 tot {MAX_TOKEN_DAYS} dagen"
            )
        with self._engine.begin() as conn:
            row = conn.execute(
                select(users.c.id, users.c.active, users.c.role).where(
                    users.c.email == normalise_email(email)
                )
            ).first()
            if row is None or not row.active:
                raise AccountError("user_unknown", f"geen actieve gebruiker {email}")
            if issued_by is not None and not may_issue_token(issued_by, Role(row.role)):
                raise AccountError(
                    "token_not_allowed",
                    f"als {issued_by.role.label} maakt u geen token voor een "
                    f"{Role(row.role).label}: met dat token ziet men leerlingen. Het wordt op de "
                    "server gemaakt (adviestraject user token)",
                )
            issuer = issued_by.user_id if issued_by is not None else CLI_ISSUER
            return issue_token_for(
                conn, row.id, name, self._clock(), timedelta(days=days), issued_by=issuer
            )

    def revoke_token(self, token_id: str) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            ).rowcount
        if not done:
            raise AccountError("token_unknown", f"geen geldig token met id {token_id}")

    def tokens_of(self, email: str) -> list[TokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens)
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(users.c.email == normalise_email(email))
                .order_by(api_tokens.c.created_at)
            ).all()
        return [TokenInfo(r.id, r.name, r.created_at, r.expires_at, r.revoked_at) for r in rows]

    def authenticate_token(self, token: str) -> Principal | None:
        """The token's user, if the token exists, is neither revoked nor expired, and the
        account is active. One statement: it runs on every API request."""
        with single_statements(self._engine).connect() as conn:
            rows = conn.execute(
                principal_select(api_tokens.c.expires_at, api_tokens.c.revoked_at)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == token_digest(token))
            ).all()
        if not rows or not token_usable(rows[0], self._clock()):
            return None
        return principal_from_rows(rows)


def may_issue_token(issuer: Principal, for_role: Role) -> bool:
    """Whether `issuer` may make a token for an account of `for_role` (over the API)."""
    return not (issuer.role is Role.BEHEER and for_role in READERS)


def issue_token_for(
    conn: Connection,
    user_id: str,
    name: str,
    now: datetime,
    lifetime: timedelta,
    *,
    issued_by: str,
) -> IssuedToken:
    """A new token for the user, in the caller's transaction; its plain text is returned once.
    `issued_by` is who made it: a user id, `cli`, or `client:<client id>`."""
    token = new_token()
    issued = IssuedToken(str(uuid.uuid4()), token, now + lifetime)
    conn.execute(
        insert(api_tokens).values(
            id=issued.id,
            user_id=user_id,
            name=name.strip() or "token",
            token_hash=token_digest(token),
            created_at=now,
            expires_at=issued.expires_at,
            issued_by=issued_by[:64],
        )
    )
    return issued


def token_usable(row: Row[Any], now: datetime) -> bool:
    """A token row (with `expires_at`, `revoked_at` and the user's `active`) that may be used."""
    return row.revoked_at is None and bool(row.active) and row.expires_at > now


def principal_select(*columns: ColumnElement[Any]) -> Select[Any]:
    """Users with `columns` and one row per scope (school, class): see `principal_from_rows`."""
    return select(users, *columns, user_schools.c.school_id, user_schools.c.class_name).outerjoin(
        user_schools, user_schools.c.user_id == users.c.id
    )


def principal_from_rows(rows: Sequence[Row[Any]]) -> Principal:
    """A principal from rows of `users` outer-joined with `user_schools` (one per scope)."""
    first = rows[0]
    return Principal(
        user_id=first.id,
        email=first.email,
        name=first.name,
        role=Role(first.role),
        scopes=frozenset(Scope(r.school_id, r.class_name) for r in rows if r.school_id is not None),
    )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise AccountError("email_invalid", f"{email!r} is geen e-mailadres")
    return email


def _known_schools(conn: Connection, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(select(schools.c.id).where(schools.c.id.in_(ids))).scalars())


def _principal(conn: Connection, row: Row[Any]) -> Principal:
    user_id: str = row.id
    scopes = frozenset(
        Scope(r.school_id, r.class_name)
        for r in conn.execute(
            select(user_schools.c.school_id, user_schools.c.class_name).where(
                user_schools.c.user_id == user_id
            )
        )
    )
    return Principal(
        user_id=user_id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        scopes=scopes,
    )
