"""/toetsuitslagen after the usability walkthrough, through the real app on SQLite and
PostgreSQL: a result read in from a CSV file says when in Dutch time (not UTC) and where from
as a teacher says it (the file's name, not its content hash)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.schools.register import Pupil
from service.shared.context import Actor, CommandContext
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.heroverweging import SCHOOL, TEACHER
from tests.e2e.web import PASSWORD, browse
from workflows.commands import GiveProvisionalAdvice, ReceiveTestResult
from workflows.scale import SchoolAdvice, TestAdvice


def test_a_csv_result_says_when_in_dutch_time_and_which_file_without_its_hash(
    container: Container, clock: Clock
) -> None:
    container.register.add_school(SCHOOL)
    container.accounts.add_user("ib@school.nl", "Ilse IB", Role.IB, [Scope(SCHOOL.id)], PASSWORD)
    clock.now = datetime(2026, 1, 20, 10, tzinfo=UTC)
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), SCHOOL.id, "Daan", "Jansen", "8A"))
    give = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    container.trajectories.execute(pupil, give, TEACHER)
    clock.now = datetime(2026, 3, 12, 1, 20, tzinfo=UTC)  # 02:20 in Amsterdam
    context = CommandContext(
        actor=Actor("ib-1", "ib"),
        extra={"import": "results.csv sha256:3704edb56d80a0b0", "line": 3},
    )
    result = ReceiveTestResult(
        provider="IEP",
        delivery_id="csv-3",
        test_advice=TestAdvice.HAVO_VWO,
        received_on=date(2026, 3, 11),
    )
    container.trajectories.execute(pupil, result, context)

    with browse(container, "ib@school.nl") as ib:
        html = ib.get("/toetsuitslagen").text
    row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S) if "Daan" in r)
    cells = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]

    assert cells[0] == "12-03-2026 02:20"
    assert cells[1] == "CSV-bestand results.csv, regel 3"
    assert "sha256" not in html
