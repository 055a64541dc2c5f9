"""Enrolment owns its atomicity: register rows and events in one commit, through one function."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from service.advice.enrolment import EnrolmentRefusedError, enrol
from service.bootstrap import Container
from service.schools.register import Pupil, School
from service.shared.context import Actor, CommandContext
from service.store.schema import events, pupils
from workflows.commands import EnrolPupil

CTX = CommandContext(actor=Actor("directie-1", "directie"))
SCHOOL = School("school-1", "99ZZ", "Testschool")


def row(name: str, enrolled_on: date = date(2025, 8, 25)) -> tuple[Pupil, EnrolPupil]:
    pupil = Pupil(str(uuid.uuid4()), SCHOOL.id, name, "Jansen", "8A")
    command = EnrolPupil(
        school_id=SCHOOL.id, school_year="2025-2026", groep=8, enrolled_on=enrolled_on
    )
    return pupil, command


def stored(container: Container) -> tuple[int, int]:
    with container.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(pupils)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
        )


@pytest.fixture
def school(container: Container) -> Container:
    container.register.add_school(SCHOOL)
    return container


def test_a_class_is_enrolled_with_its_register_rows_in_one_commit(school: Container) -> None:
    enrolled = enrol(school.trajectories, SCHOOL.id, [row("Noor"), row("Sem")], CTX, None)
    assert [e.outcome.event_types for e in enrolled] == [["pupil_enrolled"]] * 2
    assert stored(school) == (2, 2)
    names = {p.given_name for p in school.register.pupils_of(SCHOOL.id)}
    assert names == {"Noor", "Sem"}


def test_one_refused_pupil_leaves_nothing_of_the_class(school: Container) -> None:
    rows = [row("Noor"), row("Daan", enrolled_on=date(2026, 9, 1)), row("Sem")]
    with pytest.raises(EnrolmentRefusedError) as refused:
        enrol(school.trajectories, SCHOOL.id, rows, CTX, None)
    assert [i for i, _ in refused.value.refusals] == [1]
    assert stored(school) == (0, 0)


def test_a_failed_commit_leaves_no_event_and_no_name(school: Container) -> None:
    taken = row("Lot")
    school.register.add_pupil(taken[0])  # the register already holds this id: its key says no
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        enrol(school.trajectories, SCHOOL.id, [row("Sem"), taken], CTX, None)
    assert stored(school) == (1, 0), "Sem's row and both events went with the failed commit"


def test_six_identical_keyed_requests_at_once_enrol_the_class_once(school: Container) -> None:
    rows = [row("Noor"), row("Sem"), row("Lot")]
    answers: list[list[uuid.UUID]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def request() -> None:
        start.wait()
        try:
            done = enrol(school.trajectories, SCHOOL.id, rows, CTX, "directie-1/try-1")
            answers.append([e.pupil_id for e in done])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(answers) == 6
    assert all(a == answers[0] for a in answers), "every retry answers the first request"
    assert stored(school) == (3, 3)
