"""Password hashes (argon2id) and API tokens (random, shown once, stored as sha256)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "adv_"  # noqa: S105 - a marker that makes leaked tokens easy to find
MIN_PASSWORD_LENGTH = 12

_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `stored_hash` was made from. With no hash (an unknown or
    disabled account, or one without a password) a dummy hash is verified all the same, so
    the answer takes as long and the timing does not tell which accounts exist."""
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash of a random password with today's parameters (made once, on first use)."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def password_problem(password: str) -> str | None:
    """Why a new password is refused (in Dutch, for the person choosing it), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens"
    return None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
