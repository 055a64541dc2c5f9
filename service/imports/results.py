"""Toets results from a provider's export (`adviestraject import results`): the chain by hand.

One row per pupil: the pupil (the LAS-key we gave the provider, or the school's leerlingnummer),
the toetsadvies as the provider writes it, optionally the referentieniveaus and the test's name
and date. Each row is the same `ReceiveTestResult` a chain delivery gives, so the trigger is the
same: a toetsadvies above the voorlopig advies is "heroverweging required" at once. The delivery
id is the row's content, so a re-run changes nothing and a corrected row replaces the result.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from service.advice.batch import BatchItem
from service.advice.trajectories import Actor, CommandContext
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
from service.schools.register import School, schools_of_pupils
from workflows.commands import ReceiveTestResult
from workflows.errors import DomainError
from workflows.events import ReferenceLevel
from workflows.scale import TestAdvice, parse_test_advice

DOMAINS = ("lezen", "taalverzorging", "rekenen")
# a field the domain names in a refusal, as the file calls it
DOMAIN_FIELDS = {"received_on": "datum", "test_advice": "toetsadvies"}
FIELDS = (
    Field("leerling", ("las-key", "laskey", "leerlingnummer", "leerlingnr", "deelnemer"), True),
    Field("toetsadvies", ("advies", "toets advies", "schooladvies toets", "uitslag"), True),
    *(Field(d, (f"referentieniveau {d}", f"niveau {d}", f"ref {d}")) for d in DOMAINS),
    Field("toets", ("doorstroomtoets", "toetsaanbieder", "aanbieder")),
    Field("datum", ("afnamedatum", "datum uitslag", "resultaatdatum")),
    Field("brin", ("brinnummer", "brin code", "school")),
)
_LEVEL = re.compile(r"^(<1F|1F|2F|1S)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Result:
    line: int
    pupil: uuid.UUID
    school: School
    advice: TestAdvice
    levels: tuple[ReferenceLevel, ...]
    provider: str
    received_on: date


def import_results(
    container: Container,
    path: Path,
    *,
    school: str | None = None,
    provider: str | None = None,
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
    today = container.clock().date()
    report = ImportReport(rows=len(file.rows), dry_run=dry_run)
    seen: dict[uuid.UUID, int] = {}
    with all_or_nothing(container, report) as batch:
        for chunk in chunks(file.rows):
            parsed = [
                r
                for row in chunk
                if (
                    r := _parse(
                        row, file.default_school, file.schools, provider, today, seen, report
                    )
                )
                is not None
            ]
            found = schools_of_pupils(batch.io, [str(r.pupil) for r in parsed])
            items, results = [], []
            for result in parsed:
                if found.get(str(result.pupil)) != result.school.id:
                    report.errors.append(
                        RowError(result.line, "leerling", f"geen leerling van {result.school.name}")
                    )
                    continue
                items.append(_item(result, Actor(actor, role), file.source))
                results.append(result)
            for result, outcome in zip(results, batch.execute(items), strict=True):
                if outcome.error is not None:
                    report.errors.append(row_error(result.line, outcome.error, DOMAIN_FIELDS))
                elif "reconsideration_required" in outcome.event_types:
                    report.count(result.line, "heroverweging nodig")
                elif outcome.event_types:
                    report.count(result.line, "verwerkt")
                else:
                    report.count(result.line, "ongewijzigd")
            if progress is not None:
                progress(len(chunk), len(file.rows))
    return report


def _parse(
    row: Row,
    default_school: School | None,
    schools: dict[str, School],
    provider: str | None,
    today: date,
    seen: dict[uuid.UUID, int],
    report: ImportReport,
) -> _Result | None:
    v = row.values
    errors: list[RowError] = []

    def wrong(field: str, message: str) -> None:
        errors.append(RowError(row.line, field, message))

    school = school_of(v, default_school, schools, wrong)
    advice = None
    try:
        advice = parse_test_advice(v.get("toetsadvies", ""))
    except DomainError as error:
        wrong("toetsadvies", error.message if v.get("toetsadvies") else "ontbreekt")
    levels = _levels(v, wrong)
    test = v.get("toets") or provider or ""
    if not test:
        wrong("toets", "welke toets? geef een kolom toets of --toets")
    received_on = date_of(v, "datum", today, wrong)
    pupil = None
    if not v.get("leerling"):
        wrong("leerling", "ontbreekt")
    elif school is not None:
        try:
            pupil = uuid.UUID(v["leerling"])
        except ValueError:
            pupil = pupil_id_for(school.id, v["leerling"])
        if pupil in seen:
            wrong("leerling", f"staat al op regel {seen[pupil]}")
        else:
            seen[pupil] = row.line
    if errors or school is None or advice is None or pupil is None:
        report.errors.extend(errors)
        return None
    return _Result(row.line, pupil, school, advice, tuple(levels), test[:100], received_on)


def _levels(v: dict[str, str], wrong: Callable[[str, str], None]) -> list[ReferenceLevel]:
    levels = []
    for domain in DOMAINS:
        text = v.get(domain, "")
        if text and not _LEVEL.match(text):
            wrong(domain, f"{text!r} is geen referentieniveau (<1F, 1F, 2F of 1S)")
        elif text:
            levels.append(ReferenceLevel(domain=domain, level=text.upper()))
    return levels


def _item(result: _Result, actor: Actor, source: str) -> BatchItem:
    content = "|".join(
        [result.provider, str(result.pupil), result.advice.value]
        + [f"{lv.domain}={lv.level}" for lv in result.levels]
    )
    command = ReceiveTestResult(
        provider=result.provider,
        delivery_id="csv-" + hashlib.sha256(content.encode()).hexdigest()[:20],
        test_advice=result.advice,
        received_on=result.received_on,
        reference_levels=result.levels,
    )
    context = CommandContext(actor=actor, extra={"import": source, "line": result.line})
    return BatchItem(result.pupil, [command], context)
