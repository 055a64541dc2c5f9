""" "Toetsuitslagen": what the test providers delivered to the school and what became of it, for
the intern begeleider, directie and the board (reading). Deliveries that need someone — for a
pupil the school does not know, refused by the rules, or still waiting for the worker — come
first, with the reason in Dutch; below them the latest processed ones; then the results a CSV
import recorded (from which file, when, by whom). Pupils named on the page are in the access
log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.accounts.access import sees_school
from service.accounts.roles import Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.intake.inbox import PENDING, PROCESSED, REFUSED, UNKNOWN_PUPIL
from service.store.engine import single_statements
from service.store.schema import events
from service.web.pages import page, signed_in
from workflows.scale import TestAdvice

router = APIRouter(include_in_schema=False)

READERS = frozenset({Role.IB, Role.DIRECTIE, Role.BESTUUR})
STATE_LABELS = {
    PENDING: "wacht op verwerking",
    PROCESSED: "verwerkt",
    UNKNOWN_PUPIL: "leerling onbekend",
    REFUSED: "niet verwerkt",
}
LATEST = 50


@dataclass(frozen=True)
class ImportedResult:
    """A toets result that came in through a CSV import (`import results` or /import)."""

    recorded_at: datetime
    pupil_id: str
    provider: str
    test_advice: str
    source: str  # the file's name and content hash
    line: int | None
    by: str  # who imported it

    @property
    def file_name(self) -> str:
        """The file's name as the person chose it ("results.csv"), without the content hash
        the import also recorded (kept in the event's metadata for the audit)."""
        name = self.source.rsplit(" sha256:", 1)[0].strip()
        return "" if name.startswith("sha256:") else name


def imported_results(container: Container, pupil_ids: list[str]) -> list[ImportedResult]:
    """The results of these pupils that a CSV import recorded, newest first."""
    if not pupil_ids:
        return []
    streams = {f"trajectory-{p}": p for p in pupil_ids}
    with single_statements(container.engine).connect() as conn:
        found = conn.execute(
            events.select()
            .with_only_columns(
                events.c.stream_id, events.c.data, events.c.metadata, events.c.recorded_at
            )
            .where(
                events.c.event_type == "test_result_received",
                events.c.stream_id.in_(list(streams)),
            )
            .order_by(events.c.position.desc())
        ).all()
    names = {u.user_id: u.name for u in container.accounts.list_users()}
    results = []
    for r in found:
        meta, data = dict(r.metadata), dict(r.data)
        if "import" not in meta:
            continue  # a delivery through the chain: listed with the deliveries
        actor = str(meta.get("actor", ""))
        try:
            advice = TestAdvice(data.get("test_advice")).label
        except ValueError:
            advice = str(data.get("test_advice", ""))
        line = meta.get("line")
        results.append(
            ImportedResult(
                recorded_at=r.recorded_at,
                pupil_id=streams[r.stream_id],
                provider=str(data.get("provider", "")),
                test_advice=advice,
                source=str(meta["import"]),
                line=int(line) if isinstance(line, int) else None,
                by=names.get(actor) or actor.removeprefix("import:") or "onbekend",
            )
        )
    return results


@router.get("/toetsuitslagen", response_class=HTMLResponse)
def deliveries_page(request: Request, container: ContainerDep) -> Response:
    session = signed_in(
        request,
        container,
        READERS,
        "Als {role} ziet u de leveringen van toetsaanbieders niet; vraag de intern begeleider.",
    )
    if not isinstance(session, SessionUser):
        return session
    who = session.principal
    schools = []
    shown: list[str] = []
    for school in container.register.schools():
        if not sees_school(who, school.id):
            continue
        found = container.inbox.of_school(school.id, limit=10_000)
        counts = Counter(d.state for d in found)
        attention = [d for d in found if d.state != PROCESSED]
        latest = [d for d in found if d.state == PROCESSED][-LATEST:][::-1]
        register = {p.id: p.display_name for p in container.register.pupils_of(school.id)}
        imported = imported_results(container, list(register))
        names = {
            d.pupil_id: register.get(d.pupil_id, "(gegevens gewist)")
            for d in attention + latest
            if d.pupil_id
        }
        names |= {r.pupil_id: register[r.pupil_id] for r in imported}
        shown += list(names)
        schools.append((school, counts, attention, latest, names, imported))
    log_reads(container, who, shown, "toetsuitslagen", request)
    return page(
        "deliveries.html",
        who=who,
        active="/toetsuitslagen",
        csrf_token=session.csrf_token,
        schools=schools,
        labels=STATE_LABELS,
    )
