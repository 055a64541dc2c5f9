"""What every CLI command shares: one-line failures with exit code 2, settings, a container.

Every failure ends with exit code 2 and one line on stderr that says what is wrong; no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from service.bootstrap import Container, bootstrap
from service.settings import Settings
from service.store import migrate as migrations


def fail(message: str) -> typer.Exit:
    print(f"adviestraject: {message}", file=sys.stderr)
    return typer.Exit(code=2)


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise fail(f"ADVIESTRAJECT_{field.upper()}: {first['msg']}") from None


@contextmanager
def container() -> Iterator[Container]:
    try:
        opened = bootstrap(settings())
    except (ValueError, SQLAlchemyError) as error:
        raise fail(f"cannot open the database: {error}") from None
    try:
        yield opened
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise fail(f"database error: {reason}") from None
    finally:
        opened.close()


def require_schema(opened: Container) -> None:
    if migrations.current_revision(opened.engine) is None:
        raise fail("the database has no schema yet: run 'adviestraject migrate' first")
