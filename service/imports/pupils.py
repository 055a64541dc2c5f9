"""Pupils and their parents from a school administration's export (`adviestraject import pupils`).

One row per pupil: leerlingnummer, names, groep (7 or 8) and class, optionally the date of
enrolment and up to two parents (name, e-mail, phone). The tussenvoegsel (Voorvoegsel,
Tussenvoegsel, Tussenv.) is kept as the register's voorvoegsel, so the Deelnemerslijst sends it as
given ("van het", "uit den") instead of guessing it back from the surname. A new pupil gets a
register entry and a trajectory (`EnrolPupil`); a pupil already imported keeps the trajectory and
gets the register's names, class and parents brought up to date; a row that says nothing new
changes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from service.advice.batch import Batch, BatchItem
from service.advice.enrolment import enrol_in
from service.advice.trajectories import Actor, CommandContext, trajectory_stream
from service.bootstrap import Container
from service.imports.csvfile import Field, Row, RowError
from service.imports.running import (
    ImportFile,
    ImportReport,
    Progress,
    all_or_nothing,
    chunks,
    date_of,
    pupil_id_for,
    row_error,
    school_of,
)
from service.schools.register import (
    MAX_PREFIX,
    Pupil,
    School,
    insert_pupils,
    register_rows,
    update_pupil,
    write_parents,
)
from service.store import log
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil

# a field the domain names in a refusal, as the file calls it
DOMAIN_FIELDS = {"enrolled_on": "inschrijfdatum", "groep": "groep"}
FIELDS = (
    Field("leerlingnummer", ("leerlingnr", "leerling nummer", "leerlingid", "id"), required=True),
    Field("voornaam", ("roepnaam", "voornamen", "roep naam"), required=True),
    Field("tussenvoegsel", ("tussenvoegsels", "voorvoegsel", "voorvoegsels", "tussenv", "voorv")),
    Field("achternaam", ("familienaam", "geslachtsnaam", "achter naam"), required=True),
    Field("groep", ("jaargroep", "leerjaar"), required=True),
    Field("klas", ("groepsnaam", "stamgroep", "klasnaam")),
    Field("inschrijfdatum", ("datum inschrijving", "inschrijvingsdatum", "datum in")),
    Field("brin", ("brinnummer", "brin code", "school")),
    # what the chain's Deelnemerslijst needs
    Field("voorletters", ("initialen",)),
    Field("geboortedatum", ("geb datum", "geb.datum", "datum geboorte")),
    Field("geslacht", ("sekse", "gender")),
    *(
        f
        for n in (1, 2)
        for f in (
            Field(f"ouder{n}_naam", (f"naam ouder {n}", f"ouder {n}", f"naam verzorger {n}")),
            Field(f"ouder{n}_email", (f"e-mail ouder {n}", f"email ouder {n}")),
            Field(f"ouder{n}_telefoon", (f"telefoon ouder {n}", f"telefoonnummer ouder {n}")),
        )
    ),
)
_GROEP = re.compile(r"^(?:groep\s*)?([78])[a-z]?$", re.IGNORECASE)
_SEX = {"m": 1, "man": 1, "jongen": 1, "1": 1, "v": 2, "vrouw": 2, "meisje": 2, "2": 2}
_SEX |= {"x": 9, "o": 9, "onbekend": 9, "anders": 9, "9": 9}
_INITIALS = re.compile(r"^[A-Za-zÀ-ÿ]{1,6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
PARENTS = uuid.UUID("0b5e1f3c-7a2d-4c8e-9a61-2f4d8e7c1b90")


@dataclass(frozen=True)
class _Pupil:
    line: int
    id: uuid.UUID
    school: School
    number: str
    given_name: str
    family_name: str  # as written: tussenvoegsel and achternaam
    surname_prefix: str | None  # the tussenvoegsel ("" none); None: the file has no such column
    class_name: str
    groep: int
    enrolled_on: date
    demographics: tuple[str | None, date | None, int | None]  # voorletters, birth date, geslacht
    parents: tuple[tuple[str, str, str, str], ...]  # (id, name, email, phone)
    columns: frozenset[str]  # the fields the file has: what it does not have, it does not change
    parent_ids: tuple[str, str]  # the ids of parent slots 1 and 2


def import_pupils(
    container: Container,
    path: Path,
    *,
    school: str | None = None,
    school_year: SchoolYear | None = None,
    mapping: dict[str, str] | None = None,
    actor: str = "import",
    role: str = "beheer",
    dry_run: bool = False,
    progress: Progress | None = None,
    allowed: Collection[str] | None = None,
) -> ImportReport:
    """Import the file; every bad row is reported and nothing is stored unless all are right.
    `allowed`: the only schools the file may name (a web user's); `actor`/`role`: who imports."""
    file = ImportFile.read(container, path, FIELDS, mapping, school, allowed)
    year = school_year or SchoolYear.containing(container.clock().date())
    report = ImportReport(rows=len(file.rows), dry_run=dry_run)
    seen: dict[tuple[str, str], int] = {}
    with all_or_nothing(container, report) as batch:
        for chunk in chunks(file.rows):
            pupils = []
            for row in chunk:
                parsed = _parse(row, file.default_school, file.schools, year, seen, report.errors)
                if parsed is not None:
                    pupils.append(parsed)
            _store(batch, pupils, year, Actor(actor, role), file.source, report)
            if progress is not None:
                progress(len(chunk), len(file.rows))
    return report


def _parse(
    row: Row,
    default_school: School | None,
    schools: dict[str, School],
    year: SchoolYear,
    seen: dict[tuple[str, str], int],
    errors: list[RowError],
) -> _Pupil | None:
    v = row.values
    bad: list[RowError] = []

    def wrong(field: str, message: str) -> None:
        bad.append(RowError(row.line, field, message))

    school = school_of(v, default_school, schools, wrong)
    for name in ("leerlingnummer", "voornaam", "achternaam"):
        if not v.get(name):
            wrong(name, "ontbreekt")
        elif len(v[name]) > 100:
            wrong(name, "langer dan 100 tekens")
    groep = _GROEP.match(v.get("groep", ""))
    if groep is None:
        wrong("groep", f"{v.get('groep', '')!r} is geen groep 7 of 8")
    prefix = " ".join(v["tussenvoegsel"].split()) if "tussenvoegsel" in v else None
    if prefix and len(prefix) > MAX_PREFIX:
        wrong("tussenvoegsel", f"{prefix!r}: langer dan {MAX_PREFIX} tekens")
    family = f"{prefix or ''} {v.get('achternaam', '')}".strip()
    if len(family) > 100 and len(v.get("achternaam", "")) <= 100:
        wrong("achternaam", "tussenvoegsel en achternaam samen langer dan 100 tekens")
    enrolled_on = date_of(v, "inschrijfdatum", year.first_day, wrong)
    parents = _parents(v, wrong)
    demographics = _demographics(v, wrong)
    if school is not None and v.get("leerlingnummer"):
        key = (school.id, v["leerlingnummer"])
        if key in seen:
            wrong("leerlingnummer", f"staat al op regel {seen[key]}")
        else:
            seen[key] = row.line
    if bad or school is None or groep is None:
        errors.extend(bad)
        return None
    pupil_id = pupil_id_for(school.id, v["leerlingnummer"])
    return _Pupil(
        line=row.line,
        id=pupil_id,
        school=school,
        number=v["leerlingnummer"],
        given_name=v["voornaam"],
        family_name=family,
        surname_prefix=prefix,
        class_name=(v.get("klas") or groep.group(0)).upper()[:20],
        groep=int(groep.group(1)),
        enrolled_on=enrolled_on,
        demographics=demographics,
        parents=tuple(
            (str(uuid.uuid5(PARENTS, f"{pupil_id}/{n}")), name, email, phone)
            for n, name, email, phone in parents
        ),
        columns=frozenset(v),
        parent_ids=(
            str(uuid.uuid5(PARENTS, f"{pupil_id}/1")),
            str(uuid.uuid5(PARENTS, f"{pupil_id}/2")),
        ),
    )


def _demographics(
    v: dict[str, str], wrong: Callable[[str, str], None]
) -> tuple[str | None, date | None, int | None]:
    initials = v.get("voorletters", "").replace(".", "").replace(" ", "") or None
    if initials is not None and not _INITIALS.match(initials):
        wrong("voorletters", f"{v['voorletters']!r}: 1 tot 6 letters")
    born = None
    if v.get("geboortedatum"):
        born = date_of(v, "geboortedatum", date.min, wrong)
        born = None if born == date.min else born
    sex = None
    if v.get("geslacht"):
        sex = _SEX.get(v["geslacht"].casefold())
        if sex is None:
            wrong("geslacht", f"{v['geslacht']!r}: M, V of X")
    return (initials.upper() if initials else None), born, sex


def _parents(
    v: dict[str, str], wrong: Callable[[str, str], None]
) -> list[tuple[str, str, str, str]]:
    parents = []
    for n in (1, 2):
        name, email, phone = (v.get(f"ouder{n}_{k}", "") for k in ("naam", "email", "telefoon"))
        if not (name or email or phone):
            continue
        if not name:
            wrong(f"ouder{n}_naam", "ontbreekt terwijl e-mail of telefoon is gegeven")
        if email and not _EMAIL.match(email):
            wrong(f"ouder{n}_email", f"{email!r} is geen e-mailadres")
        if phone and not _PHONE.match(phone):
            wrong(f"ouder{n}_telefoon", f"{phone!r} is geen telefoonnummer")
        parents.append((str(n), name, email.lower(), phone))
    return parents


def _store(
    batch: Batch,
    pupils: Sequence[_Pupil],
    year: SchoolYear,
    actor: Actor,
    source: str,
    report: ImportReport,
) -> None:
    """Register rows and enrolments of one chunk, in the import's transaction."""
    io = batch.io
    streams = [trajectory_stream(p.id) for p in pupils]
    versions = log.stream_versions(io, streams) if streams else {}
    known = _register_rows(batch, [str(p.id) for p in pupils])
    entries = {
        pupil.id: Pupil(
            str(pupil.id),
            pupil.school.id,
            pupil.given_name,
            pupil.family_name,
            pupil.class_name,
            pupil.surname_prefix,
        )
        for pupil in pupils
    }
    new, lines = [], []
    for pupil, stream in zip(pupils, streams, strict=True):
        if versions.get(stream, 0) == 0:
            context = CommandContext(actor=actor, extra={"import": source, "line": pupil.line})
            enrol = EnrolPupil(
                school_id=pupil.school.id,
                school_year=str(year),
                groep=pupil.groep,
                enrolled_on=pupil.enrolled_on,
            )
            new.append(
                (entries[pupil.id], BatchItem(pupil.id, [enrol], context, expected_version=0))
            )
            lines.append(pupil.line)
    # The one enrolment step (service/advice/enrolment.py): trajectory and register row of each
    # new pupil in this unit of work; what the file says beyond that is written below.
    refused = set()
    outcomes = enrol_in(batch, new, registered=known.keys())
    for line, (_, item), outcome in zip(lines, new, outcomes, strict=True):
        if outcome.error is not None:
            report.errors.append(row_error(line, outcome.error, DOMAIN_FIELDS))
            refused.add(item.pupil_id)
    enrolled = {str(item.pupil_id) for _, item in new}
    for pupil in pupils:
        if pupil.id in refused:
            continue
        before = known.get(str(pupil.id))
        register = _merged(pupil, before[0] if before else None)
        gone = _parents_gone(pupil, before[1] if before else {})
        if before is None:
            report.count(pupil.line, "nieuw")
        elif (
            before[0] == register
            and not gone
            and all(before[1].get(p[0]) == p[1:] for p in pupil.parents)
        ):
            report.count(pupil.line, "ongewijzigd")
            continue
        else:
            report.count(pupil.line, "bijgewerkt")
        if before is None and str(pupil.id) not in enrolled:
            # a trajectory without a register row (its names erased): the file brings them back
            insert_pupils(batch.io, [entries[pupil.id]])
        if before is not None or any(register[4:7]):
            update_pupil(batch.io, str(pupil.id), register)
        old = before[1] if before else {}
        write_parents(batch.io, str(pupil.id), pupil.parents, old.keys(), gone)


# optional fields: absent from the file, the register keeps what it has
_KEPT = {"klas": 3, "voorletters": 4, "geboortedatum": 5, "geslacht": 6}


def _merged(pupil: _Pupil, before: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """The register row the file asks for; a column the file lacks leaves that value as it is."""
    row = [
        pupil.school.id,
        pupil.given_name,
        pupil.family_name,
        pupil.class_name,
        *pupil.demographics,
        pupil.surname_prefix,
    ]
    if before is not None:
        for field, index in _KEPT.items():
            if field not in pupil.columns:
                row[index] = before[index]
        if pupil.surname_prefix is None and before[7]:
            # no tussenvoegsel column: the one known stays while the surname still starts with it
            starts = pupil.family_name.casefold().startswith(before[7].casefold() + " ")
            row[7] = before[7] if starts else None
    return tuple(row)


def _parents_gone(pupil: _Pupil, old: dict[str, tuple[str, str, str]]) -> list[str]:
    """Parents the school administration no longer lists: the file has the slot's column and
    the row leaves it empty (the register must not keep contacts the school no longer has)."""
    listed = {p[0] for p in pupil.parents}
    return [
        parent_id
        for n, parent_id in enumerate(pupil.parent_ids, start=1)
        if f"ouder{n}_naam" in pupil.columns and parent_id not in listed and parent_id in old
    ]


def _register_rows(
    batch: Batch, pupil_ids: list[str]
) -> dict[str, tuple[tuple[Any, ...], dict[str, tuple[str, str, str]]]]:
    """What the register holds of these pupils: (school, names, class, demographics,
    voorvoegsel) and parents by id."""
    found: dict[str, tuple[tuple[Any, ...], dict[str, tuple[str, str, str]]]] = {}
    if not pupil_ids:
        return found
    rows, parent_rows = register_rows(batch.io, pupil_ids)
    for r in rows:
        born = r[6] if r[6] is None or isinstance(r[6], date) else date.fromisoformat(r[6])
        row = (str(r[1]), str(r[2]), str(r[3]), str(r[4]), r[5], born, r[7], r[8])
        found[str(r[0])] = (row, {})
    for r in parent_rows:
        if str(r[1]) in found:
            found[str(r[1])][1][str(r[0])] = (str(r[2]), str(r[3] or ""), str(r[4] or ""))
    return found
