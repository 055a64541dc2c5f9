"""What the heroverweging tests share: a pupil whose toetsadvies came in above the voorlopig
advies, set up through the real trajectory commands."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from service.bootstrap import Container
from service.schools.register import Pupil, School
from service.shared.context import Actor, CommandContext
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import GiveProvisionalAdvice, ReceiveTestResult
from workflows.scale import SchoolAdvice, TestAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")  # enrolled_pupil's school
TEACHER = CommandContext(actor=Actor("juf-1", "leerkracht"))


def pupil_with_result(
    container: Container,
    clock: Clock,
    name: str,
    class_name: str,
    test_advice: TestAdvice,
    school: School = SCHOOL,
) -> uuid.UUID:
    """`name` Jansen of `class_name`: voorlopig advies vmbo-gt on 15 January 2026, then
    `test_advice` received on 11 March (processed on the 12th). The clock is left on 12 March,
    10:00 UTC."""
    clock.now = datetime(2026, 1, 20, 10, tzinfo=UTC)
    pupil = enrolled_pupil(container)
    container.register.add_pupil(Pupil(str(pupil), school.id, name, "Jansen", class_name))
    give = GiveProvisionalAdvice(advice=SchoolAdvice.VMBO_GLTL, given_on=date(2026, 1, 15))
    container.trajectories.execute(pupil, give, TEACHER)
    clock.now = datetime(2026, 3, 12, 10, tzinfo=UTC)
    result = ReceiveTestResult(
        provider="IEP",
        delivery_id=f"d-{pupil}",
        test_advice=test_advice,
        received_on=date(2026, 3, 11),
    )
    container.trajectories.execute(pupil, result, TEACHER)
    return pupil
