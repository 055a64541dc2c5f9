"""The `adviestraject` command line: serve, migrate, seed-demo, verify, rebuild, worker, diagram.

Every failure ends with exit code 2 and one line on stderr that says what is wrong; no traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from service.accounts.cli import clients_app, users_app
from service.api.nodelay import NoDelayH11Protocol
from service.audit.anchors import (
    Anchor,
    AnchorLog,
    AnchorRefusedError,
    anchor_file,
    mail_anchor,
    write_anchor,
)
from service.audit.integrity import record as record_check
from service.audit.verify import count_events, verify
from service.bootstrap import system_clock
from service.clitools import configure_logging as _configure_logging
from service.clitools import container as _container
from service.clitools import database_error
from service.clitools import fail as _fail
from service.clitools import progress as _progress
from service.clitools import require_schema as _require_schema
from service.clitools import settings as _settings
from service.dbfaults import is_driver_error
from service.imports.cli import import_app
from service.projections.rebuild import NAMES, rebuild
from service.schools.cli import schools_app
from service.schools.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    seed_demo,
    seed_demo_availability,
    seed_demo_users,
)
from service.settings import Settings
from service.store import migrate as migrations
from service.store.keys import KeyFileError, KeyRing
from service.store.sql import SqlStore
from service.worker import beside_the_server, wait_for_database, work
from service.worker_status import backlog, read_reports
from workflows.diagram import mermaid_document

app = typer.Typer(
    name="adviestraject",
    help="Het schooladviestraject van groep 8: service, migraties en demo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema to the newest version (alembic upgrade head)."""
    with _container() as container:
        migrations.upgrade(container.engine)
        revision = migrations.current_revision(container.engine)
        print(f"database at revision {revision} ({container.engine.url.render_as_string()})")


@app.command("seed-demo")
def seed_demo_command() -> None:
    """Add the demo school with one groep 8 and its four demo users; a second run adds nothing
    but a fresh API token for the demo teacher."""
    with _container() as container:
        _require_schema(container)
        if container.settings.environment == "production":
            raise _fail("seed-demo adds accounts with a public password: not in production")
        report = seed_demo(container.register, container.trajectories, system_clock().date())
        users_added = seed_demo_users(container.accounts)
        seed_demo_availability(container.store, container.accounts, container.clock)
        token = container.accounts.issue_token(DEMO_TEACHER, "demo", days=30)
        print(
            f"demo school {DEMO_SCHOOL.name}: "
            f"{'added' if report.school_added else 'already there'}, "
            f"{report.pupils_added} pupils added, {report.events_appended} events appended, "
            f"{users_added} users added"
        )
        print(f"demo: log in as {', '.join(DEMO_ACCOUNTS)}, password {DEMO_PASSWORD}")
        print(f"demo: API token for {DEMO_TEACHER} (30 days): {token.token}")


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int, typer.Option(help="Number of worker processes")] = 1,
) -> None:
    """Start the HTTP service; on SQLite also the worker beside it (ADVIESTRAJECT_EMBEDDED_WORKER),
    so delivered results become heroverwegingen and e-mail goes out without `worker`."""
    settings = _settings()
    with _container() as container:
        _require_schema(container)
    host = host or settings.host
    port = port or settings.port
    base = f"http://{host}:{port}"
    print(f"adviestraject luistert op {base}")
    print(f"  start:      {base}/")
    print(f"  API-docs:   {base}/docs")
    print(f"  health:     {base}/health")
    embedded = settings.runs_embedded_worker
    if embedded:
        print("  worker:     draait mee (toetsuitslagen verwerken, e-mail versturen)")
    with beside_the_server(settings) if embedded else nullcontext():
        _serve(settings, host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "service.api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=NoDelayH11Protocol,
        # the client's address (the login throttle counts per address) and scheme come from
        # X-Forwarded-For/-Proto, believed only from the reverse proxy's addresses
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's lines go through our handler: plain or JSON, with request id
    )


@app.command("diagram")
def diagram_command(
    write: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None,
) -> None:
    """Print (or write) the state machines as Mermaid diagrams."""
    document = mermaid_document()
    if write is None:
        print(document, end="")
        return
    write.write_text(document, encoding="utf-8")
    print(f"wrote {write}")


@app.command("verify")
def verify_command(
    anchor: Annotated[
        list[str] | None,
        typer.Option(help="An anchor printed or mailed earlier: POSITION:HASH or HASH@POSITION"),
    ] = None,
    no_anchor: Annotated[
        bool, typer.Option("--no-anchor", help="Do not read the anchor file")
    ] = False,
) -> None:
    """Recompute the hash chain of the whole log and check it against the anchors kept outside
    the database (the anchor file, and any --anchor); exit 1 at the first tampered event."""
    try:
        given = tuple(Anchor.parse(a) for a in anchor or [])
    except ValueError as error:
        raise _fail(str(error)) from None
    with _container() as container:
        _require_schema(container)
        file = anchor_file(container.settings, container.engine.url)
        kept = AnchorLog((), 0)
        if not no_anchor and file.exists():
            try:
                kept = file.read()
            except OSError as error:
                raise _fail(f"cannot read the anchor file {file.path}: {error}") from None
        with _progress("controleren", count_events(container.engine)) as advance:
            report = verify(container.store, anchors=given + kept.anchors, progress=advance)
        # stored for the pages' integrity line; without the anchor file it can only find a break
        try:
            record_check(
                container.engine, report, container.clock(), full=not no_anchor, source="cli"
            )
        except Exception as error:  # a full disk: the check itself still counts
            if not isinstance(error, SQLAlchemyError) and not is_driver_error(error):
                raise
            print(f"warning: the result was not stored: {database_error(error)}", file=sys.stderr)
    if no_anchor:
        print("anchors: the anchor file was not read (--no-anchor)", file=sys.stderr)
    elif not kept.anchors:
        print(
            f"warning: no anchors in {file.path}: only the chain inside the database was "
            "checked, which a rewrite of the whole chain or a rolled-back head would pass "
            "('adviestraject anchor' writes one)",
            file=sys.stderr,
        )
    if kept.unreadable:
        print(f"warning: {kept.unreadable} lines of {file.path} are not anchors", file=sys.stderr)
    if report.breach is None:
        print(f"ok: {report.events} events, head {report.head_position}:{report.head_hash}")
        if kept.latest is not None:
            print(
                f"anchors: {report.anchors_checked} checked; the latest matches: "
                f"{kept.latest.described()}"
            )
        elif given:
            print(f"anchors: {report.anchors_checked} given, all match")
        return
    breach = report.breach
    stream = f" (stream {breach.stream_id})" if breach.stream_id else ""
    print(f"TAMPERED at position {breach.position}{stream}: {breach.reason}", file=sys.stderr)
    raise typer.Exit(code=1)


@app.command("anchor")
def anchor_command() -> None:
    """Write the log's head to the anchor file now (and mail it to ADVIESTRAJECT_ANCHOR_MAIL_TO);
    refused, with exit 1, when the log no longer matches the last anchor."""
    with _container() as container:
        _require_schema(container)
        settings = container.settings
        file = anchor_file(settings, container.engine.url)
        try:
            written = write_anchor(container.store, file, container.clock())
        except AnchorRefusedError as refused:
            print(f"TAMPERED: {refused}; no anchor written", file=sys.stderr)
            raise typer.Exit(code=1) from None
        except OSError as error:
            raise _fail(f"cannot write the anchor file {file.path}: {error}") from None
        if written is None:
            print("the log is empty: nothing to anchor yet")
            return
        print(f"anchor {written.printed} written to {file.path}")
        print(f"check it later with: adviestraject verify --anchor {written.printed}")
        if settings.anchor_mail_to:
            try:
                mail_anchor(settings, written)
            except OSError as error:
                raise _fail(f"anchor written, but not mailed: {error}") from None
            print(f"mailed to {settings.anchor_mail_to}")


@app.command("rebuild")
def rebuild_command(
    name: Annotated[str | None, typer.Argument(help=f"One of: {', '.join(NAMES)}")] = None,
) -> None:
    """Drop read models and build them again from the log (all when no name is given)."""
    names = [name] if name else list(NAMES)
    for each in names:
        if each not in NAMES:
            raise _fail(f"unknown read model {each!r}; known: {', '.join(NAMES)}")
    with _container() as container:
        _require_schema(container)
        total = count_events(container.engine)
        for each in names:
            with _progress(f"opnieuw opbouwen: {each}", total) as advance:
                rows = rebuild(container.engine, each, progress=advance)
            print(f"{each}: rebuilt from {total} events ({rows} handled)")


worker_app = typer.Typer(
    help="Toets results into events, outbox messages out, catch-up read models current.",
    no_args_is_help=False,
)


@worker_app.callback(invoke_without_command=True)
def worker_command(
    context: typer.Context,
    once: Annotated[bool, typer.Option(help="Handle what is waiting, then stop")] = False,
    interval: Annotated[float, typer.Option(help="Seconds to wait when idle")] = 1.0,
) -> None:
    """Run the worker's loops (intake, outbox, housekeeping) until stopped; they survive
    failures, also of the database, and say so in the log and in `worker status`."""
    if context.invoked_subcommand is not None:
        return
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with _container(statement_timeout=True) as container:
        if once:
            _require_schema(container)
        elif not wait_for_database(lambda: _require_schema(container), stopping):
            return
        board = work(container, stopping, once=once, interval=interval)
        status = container.outbox_worker().status()
        print(f"outbox: {status.pending} pending, {status.done} done, {status.failed} failed")
    failing = [(name, loop) for name, loop in board.loops().items() if loop.failures_in_a_row]
    if once and failing:
        name, loop = failing[0]
        raise _fail(f"worker loop {name} kept failing: {loop.last_error}")


@worker_app.command("status")
def worker_status_command() -> None:
    """Each worker process's loops (last success, last error) and the backlog."""
    with _container() as container:
        _require_schema(container)
        waiting = backlog(container.engine)
        reports = read_reports(container.settings.worker_status_dir)
    print(
        f"backlog: {waiting.deliveries_pending} deliveries pending, "
        f"read models {waiting.events_behind} positions behind, "
        f"outbox {waiting.outbox_pending} pending, {waiting.outbox_failed} failed"
    )
    if not reports:
        print(f"no worker is running (no status in {container.settings.worker_status_dir})")
    for report in reports:
        stale = " STALE (no report for a while: dead or hanging?)" if report.stale else ""
        print(
            f"worker {report.worker}, started {report.started_at}, "
            f"last report {report.updated_at}{stale}"
        )
        for name, loop in report.loops.items():
            backlog_of = waiting.of_loop(name)
            line = f"  {name}: last success {loop.last_success_at or 'never'}"
            if backlog_of is not None:
                line += f", backlog {backlog_of}"
            if loop.last_error_at:
                line += f", last error {loop.last_error_at}: {loop.last_error}"
            if loop.failures_in_a_row:
                line += f" ({loop.failures_in_a_row} failures in a row)"
            print(line)


@app.command("outbox")
def outbox_command(
    retry_failed: Annotated[
        bool, typer.Option(help="Give failed messages new attempts (after fixing the cause)")
    ] = False,
) -> None:
    """Show the outbox: pending, done and failed messages with their last error."""
    with _container() as container:
        _require_schema(container)
        worker = container.outbox_worker()
        if retry_failed:
            print(f"{worker.retry_failed()} failed messages will be tried again")
        status = worker.status()
        print(f"outbox: {status.pending} pending, {status.done} done, {status.failed} failed")
        for message_id, topic, attempts, error in worker.failed():
            print(f"  failed #{message_id} {topic} after {attempts} attempts: {error}")


keys_app = typer.Typer(
    help="The key-encryption keys that wrap every pupil's key (ADVIESTRAJECT_KEY_FILE).",
    no_args_is_help=True,
)


@keys_app.command("new")
def keys_new_command(
    path: Annotated[Path, typer.Argument(help="Where to write the new key file (mode 0600)")],
) -> None:
    """Write a new key file with one key-encryption key (before a first start in production)."""
    if path.exists():
        raise _fail(f"{path} exists already: rotate by adding a line to it (docs/event-store.md)")
    try:
        KeyRing.from_file(path, create=True)
    except OSError as error:
        raise _fail(f"cannot write {path}: {error}") from None
    print(f"key file written to {path}; keep a copy apart from the database's backups")


@keys_app.command("rewrap")
def keys_rewrap_command() -> None:
    """Wrap every pupil's key with the first key of the key file (after a rotation, or for keys
    stored before wrapping existed); then the old line can leave the file."""
    with _container() as container:
        _require_schema(container)
        store = container.store
        if not isinstance(store, SqlStore):
            raise _fail("rewrap needs the database's store")
        try:
            changed = store.rewrap_keys()
        except KeyFileError as error:
            raise _fail(str(error)) from None
        print(f"{changed} pupil keys wrapped with key {store.keyring.current_id!r}")


app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="user")
app.add_typer(clients_app, name="client")
app.add_typer(schools_app, name="school")
app.add_typer(import_app, name="import")
app.add_typer(worker_app, name="worker")


def main() -> None:
    _configure_logging()
    run: Callable[[], object] = app
    run()
