"""CSV upload in the browser (`/import`): pupils and parents from the school administration, or
toets results from a provider's export, for the intern begeleider and directie.

Two steps. The upload is a dry run: the file is checked by the same import as
`adviestraject import` (service/imports: the same parser, the same checks, the same domain
decisions in a rolled-back transaction) and the preview shows every line, every bad line with its
line number and reason, and what would be stored. Nothing is stored. The file itself is kept on
the server under its SHA-256; "Opslaan" names that hash, and the import runs again on exactly
those bytes, in one transaction, all or nothing. Should the store have changed in between so that
a line is now refused, nothing is stored and the page says so.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from service.accounts.roles import Principal, Role
from service.accounts.sessions import SessionUser
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.bootstrap import Container
from service.imports.csvfile import Field, ImportFileError, read_rows
from service.imports.pupils import FIELDS as PUPIL_FIELDS
from service.imports.pupils import import_pupils
from service.imports.results import FIELDS as RESULT_FIELDS
from service.imports.results import import_results
from service.imports.running import ImportReport, pupil_id_for
from service.schools.register import School
from service.web.pages import page, signed_in, tokens_match
from workflows.calendar import SchoolYear

router = APIRouter(include_in_schema=False)

IMPORTERS = frozenset({Role.IB, Role.DIRECTIE})
KINDS = {"leerlingen": "Leerlingen en ouders", "uitslagen": "Toetsuitslagen"}
UPLOADS = Path(tempfile.gettempdir()) / "adviestraject-uploads"
KEEP_SECONDS = 24 * 3600  # an upload nobody commits is gone after a day
_HASH = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _who(request: Request, container: Container) -> SessionUser | Response:
    return signed_in(
        request,
        container,
        IMPORTERS,
        "Als {role} kunt u geen bestanden inlezen; vraag de intern begeleider of de directie.",
    )


def _schools(container: Container, who: Principal) -> list[School]:
    return [s for s in container.register.schools() if s.id in who.school_ids]


def _years(container: Container) -> list[str]:
    now = SchoolYear.containing(container.clock().date())
    return [str(now), str(SchoolYear(now.start_year + 1))]


def _form(
    container: Container,
    session: SessionUser,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    schools = _schools(container, session.principal)
    years = _years(container)
    chosen = {"soort": "leerlingen", "school": schools[0].id if schools else ""}
    chosen |= {"schooljaar": years[0], "toets": ""} | (values or {})
    return page(
        "w_import.html",
        status=status,
        active="/import",
        who=session.principal,
        csrf_token=session.csrf_token,
        school_options=[(s.id, f"{s.name} (BRIN {s.brin})") for s in schools],
        year_options=[(y, y) for y in years],
        kinds=KINDS,
        errors=errors or {},
        values=chosen,
    )


@router.get("/import", response_class=HTMLResponse)
def upload_form(request: Request, container: ContainerDep) -> Response:
    session = _who(request, container)
    if not isinstance(session, SessionUser):
        return session
    return _form(container, session)


def _check(
    container: Container,
    session: SessionUser,
    csrf_token: str,
    soort: str,
    school: str,
    schooljaar: str,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not tokens_match(session.csrf_token, csrf_token):
        errors["form"] = "Het formulier was verlopen. Probeer het nog eens."
    if soort not in KINDS:
        errors["soort"] = "Kies wat het bestand bevat."
    if school not in {s.id for s in _schools(container, session.principal)}:
        errors["school"] = "Kies een van uw scholen."
    if soort == "leerlingen" and schooljaar not in _years(container):
        errors["schooljaar"] = "Kies het schooljaar."
    return errors


def _run(
    container: Container,
    who: Principal,
    path: Path,
    soort: str,
    school: str,
    schooljaar: str,
    toets: str,
    *,
    dry_run: bool,
) -> ImportReport:
    common: dict[str, Any] = {
        "school": school,
        "actor": who.user_id,
        "role": who.role.value,
        "dry_run": dry_run,
        "allowed": who.school_ids,
    }
    if soort == "leerlingen":
        return import_pupils(container, path, school_year=SchoolYear.parse(schooljaar), **common)
    return import_results(container, path, provider=toets.strip() or None, **common)


def _keep(data: bytes, filename: str) -> tuple[str, Path]:
    """The upload on disk under its SHA-256 (its name kept for the events' `import` source)."""
    digest = hashlib.sha256(data).hexdigest()
    _sweep()
    folder = UPLOADS / digest
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    name = _NAME.sub("_", Path(filename or "bestand.csv").name)[:80] or "bestand.csv"
    path = folder / name
    path.write_bytes(data)
    return digest, path


def _kept(digest: str) -> Path | None:
    """The kept upload of this hash, if it is still there and still has exactly these bytes."""
    if not _HASH.match(digest):
        return None
    folder = UPLOADS / digest
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if len(files) != 1 or hashlib.sha256(files[0].read_bytes()).hexdigest() != digest:
        return None
    return files[0]


def _sweep() -> None:
    if not UPLOADS.is_dir():
        return
    limit = time.time() - KEEP_SECONDS
    for folder in UPLOADS.iterdir():
        try:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _lines(
    container: Container, path: Path, soort: str, school: str, report: ImportReport
) -> list[dict[str, Any]]:
    """Every line of the file as the preview shows it: its values, errors and outcome."""
    fields: tuple[Field, ...] = PUPIL_FIELDS if soort == "leerlingen" else RESULT_FIELDS
    errors: dict[int, list[str]] = {}
    for error in report.errors:
        where = f"{error.field}: " if error.field else ""
        errors.setdefault(error.line, []).append(where + error.message)
    lines = []
    names: Callable[[str], str]
    if soort == "uitslagen":
        known = {p.id: p.display_name for p in container.register.pupils_of(school)}

        def names(ref: str) -> str:
            return known.get(ref) or known.get(str(pupil_id_for(school, ref)), "")

    else:

        def names(ref: str) -> str:
            return ""

    for row in read_rows(path, fields, {}):
        v = row.values
        if soort == "leerlingen":
            name = " ".join(
                x for x in (v.get("voornaam"), v.get("tussenvoegsel"), v.get("achternaam")) if x
            )
            parents = sum(1 for n in (1, 2) if v.get(f"ouder{n}_naam"))
            cells = [
                v.get("leerlingnummer", ""),
                name,
                v.get("groep", ""),
                v.get("klas", ""),
                str(parents) if parents else "–",
            ]
        else:
            ref = v.get("leerling", "")
            cells = [ref, names(ref) or "–", v.get("toetsadvies", ""), v.get("toets", "")]
        lines.append(
            {
                "line": row.line,
                "cells": cells,
                "errors": errors.pop(row.line, []),
                "outcome": report.outcomes.get(row.line, ""),
            }
        )
    for line, messages in sorted(errors.items()):  # an error of a line the preview skipped
        lines.append({"line": line, "cells": [], "errors": messages, "outcome": ""})
    return sorted(lines, key=lambda entry: int(entry["line"]))


HEADERS = {
    "leerlingen": ("Leerlingnummer", "Naam", "Groep", "Klas", "Ouders"),
    "uitslagen": ("Leerling", "Naam", "Toetsadvies", "Toets"),
}


def _report_page(
    container: Container,
    request: Request,
    session: SessionUser,
    *,
    report: ImportReport,
    path: Path,
    digest: str,
    values: dict[str, str],
    committed: bool,
) -> HTMLResponse:
    soort, school = values["soort"], values["school"]
    lines = _lines(container, path, soort, school, report)
    if soort == "uitslagen":
        known = {p.id for p in container.register.pupils_of(school)}
        shown = [
            ref
            for entry in lines
            if entry["cells"]
            for ref in (entry["cells"][0], str(pupil_id_for(school, entry["cells"][0])))
            if ref in known
        ]
        log_reads(container, session.principal, shown, "import", request)
    school_name = next(
        (s.name for s in _schools(container, session.principal) if s.id == school), school
    )
    return page(
        "w_import_report.html",
        status=422 if report.errors else 200,
        active="/import",
        who=session.principal,
        csrf_token=session.csrf_token,
        report=report,
        lines=lines,
        headers=HEADERS[soort],
        digest=digest,
        filename=path.name,
        values=values,
        kind=KINDS[soort],
        school_name=school_name,
        committed=committed,
        bad=len({e.line for e in report.errors}),
    )


@router.post("/import", response_class=HTMLResponse)
async def upload_preview(
    request: Request,
    container: ContainerDep,
    bestand: Annotated[UploadFile | None, File()] = None,
    soort: Annotated[str, Form(max_length=20)] = "",
    school: Annotated[str, Form(max_length=36)] = "",
    schooljaar: Annotated[str, Form(max_length=9)] = "",
    toets: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The dry run: check every line, show what would be stored, store nothing."""
    session = _who(request, container)
    if not isinstance(session, SessionUser):
        return session
    values = {"soort": soort, "school": school, "schooljaar": schooljaar, "toets": toets}
    errors = _check(container, session, csrf_token, soort, school, schooljaar)
    data = await bestand.read() if bestand is not None else b""
    if not data.strip():
        errors["bestand"] = "Kies een CSV-bestand met een kopregel en minstens één regel."
    if errors:
        status = 403 if "form" in errors else 422
        return _form(container, session, status=status, errors=errors, values=values)
    digest, path = _keep(data, (bestand.filename if bestand is not None else "") or "")
    try:
        report = _run(
            container, session.principal, path, soort, school, schooljaar, toets, dry_run=True
        )
    except ImportFileError as error:
        message = str(error).replace(f"{path}: ", "")
        return _form(container, session, status=422, errors={"bestand": message}, values=values)
    return _report_page(
        container,
        request,
        session,
        report=report,
        path=path,
        digest=digest,
        values=values,
        committed=False,
    )


@router.post("/import/opslaan", response_class=HTMLResponse)
def upload_commit(
    request: Request,
    container: ContainerDep,
    bestand: Annotated[str, Form(max_length=64)] = "",
    soort: Annotated[str, Form(max_length=20)] = "",
    school: Annotated[str, Form(max_length=36)] = "",
    schooljaar: Annotated[str, Form(max_length=9)] = "",
    toets: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Store exactly the previewed file (by its hash), in one transaction: all or nothing."""
    session = _who(request, container)
    if not isinstance(session, SessionUser):
        return session
    values = {"soort": soort, "school": school, "schooljaar": schooljaar, "toets": toets}
    errors = _check(container, session, csrf_token, soort, school, schooljaar)
    path = _kept(bestand)
    if path is None:
        errors["bestand"] = "Het voorbeeld is verlopen of onbekend: lever het bestand opnieuw aan."
    if errors:
        status = 403 if "form" in errors else 422
        return _form(container, session, status=status, errors=errors, values=values)
    assert path is not None  # noqa: S101
    try:
        report = _run(
            container, session.principal, path, soort, school, schooljaar, toets, dry_run=False
        )
    except ImportFileError as error:  # pragma: no cover - the same bytes passed the preview
        return _form(container, session, status=422, errors={"bestand": str(error)}, values=values)
    response = _report_page(
        container,
        request,
        session,
        report=report,
        path=path,
        digest=bestand,
        values=values,
        committed=report.committed,
    )
    if report.committed:
        shutil.rmtree(path.parent, ignore_errors=True)
    return response
