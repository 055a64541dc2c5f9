"""The class grid: the voorlopig advies for a whole class on one page, committed in one transaction.

`/klassen/voorlopig?school=&klas=` lists every pupil of the class on one row. A pupil who waits
for the voorlopig advies gets a choice of the advice scale; one whose advice is given and whose
toetsuitslag has not come may have it corrected (a different choice, with the reason); the others
are shown as they stand. One POST sends the whole class through the batch path
(`Trajectories.batch`: the log locked once, every pupil decided by the domain, everything committed
together): if any row is refused — by the form, by the domain, or because the pupil changed since
the grid was opened — the transaction is rolled back, nothing is stored, and every bad row shows
its reason in Dutch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from service.accounts.access import WRITERS, sees_school, visible_classes
from service.accounts.sessions import SessionUser
from service.advice.batch import BatchItem, BatchOutcome
from service.advice.routing import log_reads
from service.advice.trajectories import Actor, CommandContext
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.schools.register import Pupil
from service.store.engine import single_statements
from service.store.events import ConcurrencyError
from service.store.schema import trajectories
from service.store.streams import trajectory_stream
from service.web.commands import AMSTERDAM, changed_by, sentence
from service.web.pages import message_page, page, session_of, tokens_match
from workflows.commands import Command, CorrectProvisionalAdvice, GiveProvisionalAdvice
from workflows.errors import DomainError
from workflows.lifecycle import Status
from workflows.scale import SchoolAdvice

router = APIRouter(include_in_schema=False)

NEW, CORRECT, SHOWN = "new", "correct", "shown"


@dataclass
class Row:
    pupil: Pupil
    status: Status
    advice: SchoolAdvice | None
    version: int
    mode: str
    chosen: str = ""
    reason: str = ""
    error: str = ""
    stale: bool = False


class _RefusedError(Exception):
    """Raised inside the batch's transaction to roll it back: some row was refused."""

    def __init__(self, outcomes: list[BatchOutcome]) -> None:
        super().__init__("a row of the grid was refused")
        self.outcomes = outcomes


def _rows(container: Container, pupils: list[Pupil]) -> list[Row]:
    streams = {trajectory_stream(p.id): p for p in pupils}
    with single_statements(container.engine).connect() as conn:
        found = {
            r.stream_id: r
            for r in conn.execute(
                select(
                    trajectories.c.stream_id,
                    trajectories.c.status,
                    trajectories.c.provisional_advice,
                    trajectories.c.test_advice,
                    trajectories.c.version,
                ).where(trajectories.c.stream_id.in_(list(streams)))
            )
        }
    rows = []
    for stream, pupil in streams.items():
        r = found.get(stream)
        status = Status(r.status) if r else Status.NOT_ENROLLED
        advice = SchoolAdvice(r.provisional_advice) if r and r.provisional_advice else None
        if status is Status.AWAITING_PROVISIONAL_ADVICE:
            mode = NEW
        elif status is Status.AWAITING_TEST_RESULT and advice and r and not r.test_advice:
            mode = CORRECT
        else:
            mode = SHOWN
        rows.append(
            Row(pupil, status, advice, r.version if r else 0, mode, advice.value if advice else "")
        )
    return rows


@lru_cache(maxsize=64)  # posted values can be anything: bounded
def advice_options(chosen: str, empty: str) -> Markup:
    """The <option>s of the advice scale with `chosen` selected: built once per choice, not per
    row (60 rows of 18 options were most of the page's time)."""
    option = Markup('<option value="{}"{}>{}</option>')  # format() escapes what it fills in
    selected = Markup(" selected")
    options = [option.format("", "", empty)]
    for advice in SchoolAdvice:
        mark = selected if advice.value == chosen else ""
        options.append(option.format(advice.value, mark, advice.label))
    return Markup("\n").join(options)


def _class_pupils(container: Container, school_id: str, class_name: str) -> list[Pupil]:
    return [p for p in container.register.pupils_of(school_id) if p.class_name == class_name]


def _gate(
    request: Request, container: Container, school_id: str, class_name: str
) -> SessionUser | Response:
    session = session_of(request, container)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    classes = visible_classes(who, school_id)
    if not sees_school(who, school_id) or (classes is not None and class_name not in classes):
        return message_page(
            session, 404, "Niet gevonden", "Deze klas bestaat niet of valt buiten uw school."
        )
    if who.role not in WRITERS:
        return message_page(
            session,
            403,
            "Geen toegang",
            f"Als {who.role.label} kunt u adviezen inzien, maar niet vastleggen.",
        )
    return session


def _render(
    request: Request,
    container: Container,
    session: SessionUser,
    school_id: str,
    class_name: str,
    rows: list[Row],
    *,
    status: int = 200,
    given_on: str | None = None,
    given_on_error: str = "",
    form_error: str = "",
    saved: int | None = None,
) -> HTMLResponse:
    log_reads(
        container, session.principal, [r.pupil.id for r in rows], "klas voorlopig advies", request
    )
    school = container.register.school(school_id)
    return page(
        "c_grid.html",
        status,
        who=session.principal,
        csrf_token=session.csrf_token,
        school=school,
        school_id=school_id,
        class_name=class_name,
        rows=rows,
        options=advice_options,
        given_on=(
            container.clock().astimezone(AMSTERDAM).date().isoformat()
            if given_on is None
            else given_on
        ),
        given_on_error=given_on_error,
        form_error=form_error,
        saved=saved,
        modes={"new": NEW, "correct": CORRECT},
    )


@router.get("/klassen/voorlopig", response_class=HTMLResponse)
def show_grid(
    request: Request,
    container: ContainerDep,
    school: str = "",
    klas: str = "",
    opgeslagen: int | None = None,
) -> Response:
    gate = _gate(request, container, school, klas)
    if isinstance(gate, Response):
        return gate
    rows = _rows(container, _class_pupils(container, school, klas))
    return _render(request, container, gate, school, klas, rows, saved=opgeslagen)


@router.post("/klassen/voorlopig", response_class=HTMLResponse)
async def submit_grid(
    request: Request, container: ContainerDep, school: str = "", klas: str = ""
) -> Response:
    posted = await request.form()
    return await run_in_threadpool(_submit, request, container, school, klas, posted)


def _submit(
    request: Request, container: Container, school_id: str, class_name: str, posted: Any
) -> Response:
    gate = _gate(request, container, school_id, class_name)
    if isinstance(gate, Response):
        return gate
    session = gate
    sent = str(posted.get("csrf_token") or "")
    if not tokens_match(session.csrf_token, sent):
        return message_page(
            session,
            403,
            "Formulier verlopen",
            "Dit formulier kwam niet van uw sessie (of is verlopen). Open het opnieuw.",
        )
    rows = _rows(container, _class_pupils(container, school_id, class_name))
    given_raw = str(posted.get("given_on") or "").strip()
    given_on: date | None = None
    given_error = ""
    try:
        given_on = date.fromisoformat(given_raw)
    except ValueError:
        given_error = "Geef een geldige datum." if given_raw else "Vul dit veld in."
    planned = _plan(container, rows, posted, given_on)
    again = partial(_render, request, container, session, school_id, class_name)
    if given_error or any(r.error for r in rows) or not planned:
        nothing = not given_error and not any(r.error for r in rows)
        return again(
            rows,
            status=409 if any(r.stale for r in rows) else 422,
            given_on=given_raw,
            given_on_error=given_error,
            form_error="Kies voor ten minste één leerling een advies." if nothing else REFUSED,
        )
    context = CommandContext(
        actor=Actor(id=session.principal.user_id, role=session.principal.role.value),
        request_id=request.state.request_id,
        correlation_id=request.state.request_id,
    )
    items = [
        BatchItem(UUID(row.pupil.id), [command], context, expected_version=row.version)
        for row, command in planned
    ]
    try:
        with container.trajectories.batch() as batch:
            outcomes = batch.execute(items)
            if not all(o.accepted for o in outcomes):
                raise _RefusedError(outcomes)  # rolls the whole class back
    except _RefusedError as refused:
        fresh = _after_refusal(container, school_id, class_name, planned, refused.outcomes)
        stale = any(r.stale for r in fresh)
        return again(fresh, status=409 if stale else 422, given_on=given_raw, form_error=REFUSED)
    query = urlencode({"school": school_id, "klas": class_name, "opgeslagen": len(items)})
    return RedirectResponse(f"/klassen/voorlopig?{query}", status_code=303)


REFUSED = "Niets opgeslagen: verbeter de rijen met een melding."


def _plan(
    container: Container, rows: list[Row], posted: Any, given_on: date | None
) -> list[tuple[Row, Command]]:
    """Each editable row's command from the posted form; a bad row gets its `error`."""
    planned: list[tuple[Row, Command]] = []
    for row in rows:
        if row.mode == SHOWN:
            continue
        pupil = row.pupil.id
        row.chosen = str(posted.get(f"advies-{pupil}") or "")
        row.reason = str(posted.get(f"reden-{pupil}") or "").strip()
        version = str(posted.get(f"versie-{pupil}") or "")
        command = _command(row, given_on, version, partial(changed_by, container, pupil))
        if command is not None:
            planned.append((row, command))
    return planned


def _after_refusal(
    container: Container,
    school_id: str,
    class_name: str,
    planned: list[tuple[Row, Command]],
    outcomes: list[BatchOutcome],
) -> list[Row]:
    """The class as it stands now (fresh versions), with what was chosen and each row's reason."""
    for (row, _), outcome in zip(planned, outcomes, strict=True):
        if isinstance(outcome.error, ConcurrencyError):
            row.stale, row.error = True, changed_by(container, row.pupil.id)
        elif isinstance(outcome.error, DomainError):
            row.error = sentence(outcome.error.message)
    fresh = _rows(container, _class_pupils(container, school_id, class_name))
    typed = {row.pupil.id: row for row, _ in planned}
    for row in fresh:
        old = typed.get(row.pupil.id)
        if old is None:
            continue
        if row.mode == old.mode and row.mode != SHOWN:
            row.chosen, row.reason = old.chosen, old.reason
        row.error, row.stale = old.error, old.stale
    return fresh


def _command(
    row: Row, given_on: date | None, version: str, changed: Callable[[], str]
) -> Command | None:
    """The row's command, None when nothing changes; a bad row gets its `error`."""
    if not row.chosen or (row.mode == CORRECT and row.advice and row.chosen == row.advice.value):
        return None
    try:
        advice = SchoolAdvice(row.chosen)
    except ValueError:
        row.error = "Kies een advies uit de lijst."
        return None
    if not version.isdigit() or int(version) != row.version:
        row.stale, row.error = True, changed()
        return None
    if given_on is None:
        return None
    if row.mode == CORRECT:
        if not row.reason:
            row.error = "Geef de reden van de correctie."
            return None
        return CorrectProvisionalAdvice(advice=advice, corrected_on=given_on, reason=row.reason)
    return GiveProvisionalAdvice(advice=advice, given_on=given_on)
