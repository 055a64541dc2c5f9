"""What every CLI command shares: one-line failures with exit code 2, settings, a container.

Every failure ends with exit code 2 and one line on stderr that says what is wrong; no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import SQLAlchemyError

from service import logs
from service.bootstrap import Container, bootstrap
from service.dbfaults import NOT_WRITABLE, is_driver_error, outage
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


def configure_logging() -> None:
    """Logging as the settings ask; plain lines when the settings themselves are wrong (the
    command then fails on them with its own one line)."""
    try:
        chosen = Settings()
    except ValidationError:
        logs.configure()
        return
    logs.configure(chosen.log_format, chosen.log_level)


@contextmanager
def container(*, statement_timeout: bool = False) -> Iterator[Container]:
    """The container for a command; the database's errors become one line and exit code 2.

    Without `statement_timeout` PostgreSQL statements may run as long as they need (a migration
    or an import of a whole board); the worker asks for the configured limit."""
    chosen = settings()
    if not statement_timeout:
        chosen = chosen.model_copy(update={"database_statement_timeout": 0.0})
    try:
        opened = bootstrap(chosen)
    except (ValueError, SQLAlchemyError) as error:
        raise fail(f"cannot open the database: {error}") from None
    try:
        yield opened
    except Exception as error:
        if not isinstance(error, SQLAlchemyError) and not is_driver_error(error):
            raise
        raise fail(database_error(error)) from None
    finally:
        opened.close()


def database_error(error: BaseException) -> str:
    """One line for a database error, saying whether trying again later can help."""
    down = outage(error)
    if down is not None and down.code == NOT_WRITABLE:
        return f"database error (cannot store anything: disk full or failing): {down.reason}"
    if down is not None:
        return f"database error (unavailable, try again later): {down.reason}"
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip()
    return f"database error: {text.splitlines()[0] if text else type(orig).__name__}"


def require_schema(opened: Container) -> None:
    if migrations.current_revision(opened.engine) is None:
        raise fail("the database has no schema yet: run 'adviestraject migrate' first")


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr (gone when done); the callback advances it by n, and sets the
    total when the caller learns it only later: `advance(n)` or `advance(n, total)`. The bar
    appears with the first advance, so a command that fails before has one line of output."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    bar = Progress(*columns, console=console, transient=True)
    task = bar.add_task(description, total=total)

    def advance(n: int, total: int | None = None) -> None:
        if not console.is_terminal:  # a log file or a pipe gets the result line, not the bar
            return
        if not bar.live.is_started:
            bar.start()
        bar.update(task, advance=n, total=total)

    try:
        yield advance
    finally:
        if bar.live.is_started:
            bar.stop()
