"""The start page: what needs my attention now, per role, for the current school year.

A visitor is sent to the login (no pupil data without login, in every environment). First the
notices the school sends to this person (`open_notices`: heroverwegingen of their pupils). A teacher
sees the pupils of the own classes that wait for something: deadlines passed, heroverwegingen
open, voorlopig advies still to give; IB and directie the same for the whole school, with counts
per state that link to the class page; the board the counts of its schools; beheer the pages for
schools and accounts and no pupil data. Every pupil named on the page is in the access log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts.access import READERS, sees_school, visible_classes
from service.accounts.roles import Role
from service.advice.routing import log_reads
from service.api.deps import ContainerDep
from service.notices.reconsideration import open_notices
from service.schools.register import School
from service.web.calendar import upcoming
from service.web.classes import ClassRow, class_rows, read_class
from service.web.pages import page, school_names, session_of
from service.web.talks import at_risk_rows
from workflows.calendar import SchoolYear
from workflows.lifecycle import Status

router = APIRouter(include_in_schema=False)

REVIEW = (Status.RECONSIDERATION_REQUIRED, Status.RESULT_REVIEW_REQUIRED)
NAMED_FOR_ALL = 50  # a school-wide list stops here and links to the class page


@dataclass
class SchoolAttention:
    school: School
    counts: Counter[Status]
    total: int
    overdue: list[ClassRow] = field(default_factory=list)
    review: list[ClassRow] = field(default_factory=list)
    provisional: list[ClassRow] = field(default_factory=list)
    talks_at_risk: int = 0  # IB and directie: talks that may miss the deadline

    @property
    def named(self) -> list[ClassRow]:
        return self.overdue + self.review + self.provisional


@router.get("/", response_class=HTMLResponse)
def home(request: Request, container: ContainerDep) -> Response:
    session = session_of(request, container)
    if session is None:  # no pupil data without login, in every environment
        return RedirectResponse("/login", status_code=303)
    who = session.principal
    now = container.clock()
    today = now.date()
    year = str(SchoolYear.containing(today))
    common: dict[str, Any] = {
        "who": who,
        "csrf_token": session.csrf_token,
        "active": "/",
        "school_label": ", ".join(school_names(container, who)),
        "year": year,
    }
    if who.role not in READERS:
        return page("home.html", schools=[], pupils_visible=False, **common)
    teacher = who.role is Role.LEERKRACHT
    notices = open_notices(container, who)
    notified = {n.pupil_id for n in notices}  # not listed a second time below
    shown = {n.pupil_id: None for n in notices}  # each pupil named on the page, once
    attention = []
    coming = []  # a teacher's next talks
    for school in container.register.schools():
        if not sees_school(who, school.id):
            continue
        classes = visible_classes(who, school.id)
        raw = read_class(container.engine, school.id, year, classes=classes, with_unenrolled=False)
        rows = class_rows(container, school.id, raw, today)
        found = SchoolAttention(school, Counter(r.status for r in rows), len(rows))
        if who.role is not Role.BESTUUR:  # the board gets the counts, not the names
            found.overdue = [r for r in rows if r.overdue][:NAMED_FOR_ALL]
            found.review = [
                r
                for r in rows
                if r.status in REVIEW and not r.overdue and r.pupil_id not in notified
            ]
            found.review = found.review[:NAMED_FOR_ALL]
            if teacher:
                found.provisional = [
                    r
                    for r in rows
                    if r.status is Status.AWAITING_PROVISIONAL_ADVICE and not r.overdue
                ]
        if who.role in (Role.IB, Role.DIRECTIE):
            found.talks_at_risk = len(at_risk_rows(container, [school.id], now))
        shown.update((r.pupil_id, None) for r in found.named)
        if teacher:
            coming += upcoming(container, who, school.id, who.user_id, now)
            shown.update((b.pupil_id, None) for b in coming if b.pupil_id)
        attention.append(found)
    log_reads(container, who, list(shown), "startpagina", request)
    return page(
        "home.html",
        schools=attention,
        pupils_visible=True,
        teacher=teacher,
        notices=notices,
        coming=sorted(coming, key=lambda b: b.start)[:5],
        statuses=[s for s in Status if s is not Status.NOT_ENROLLED],
        **common,
    )
