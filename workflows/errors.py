"""The one error the domain raises: a rule said no, with a stable code and a Dutch explanation.

The code is machine-readable and stable (API clients and tests match on it); the message is what
a teacher reads; `field` names the input that was wrong, when one was.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field


class InvalidHistoryError(Exception):
    """A stored history the rules could never have produced: a bug or tampering, never input."""
