"""A whole round of talks through the real app on both databases: the teacher publishes time for
the voorlopig-adviesgesprekken, directie clicks "Gesprekken voor deze ronde inplannen", every groep
8 pupil gets one talk (a groep 7 pupil none), the ones that fit are planned in the published time
and the one that does not is named with the planner's reason; asking again plans nothing twice;
a teacher may not plan a round, and the heroverweging talks are not planned as a round."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.schools.register import Pupil
from service.store.schema import parents, talks
from tests.conftest import Clock, enrolled_pupil
from tests.e2e.test_availability_page import SCHOOL, rows_form
from tests.e2e.web import PASSWORD, browse, csrf
from workflows.availability import AMSTERDAM
from workflows.calendar import SchoolYear
from workflows.cycles import ConversationRound, MonthDay, RoundKind
from workflows.policy import SchoolPolicy

ROUND = "adviesgesprek"


@pytest.fixture
def school(container: Container, clock: Clock) -> Container:
    clock.now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    container.register.add_school(SCHOOL)
    for email, name, role, scope in (
        ("directie@school.nl", "Dirk Directeur", Role.DIRECTIE, Scope(SCHOOL.id)),
        ("juf@school.nl", "Juf Jansen", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
    ):
        container.accounts.add_user(email, name, role, [scope], PASSWORD)
    advice = ConversationRound(
        ROUND, RoundKind.PROVISIONAL_ADVICE, 8, MonthDay(1, 12), MonthDay(1, 30)
    )
    container.policies.change(
        SCHOOL.id,
        SchoolYear(2025),
        SchoolPolicy(rounds=(advice,)),
        user_id="d",
        user_name="Dirk",
        role="directie",
        expected_version=0,
    )
    for given, groep in (("Anna", 8), ("Bram", 8), ("Cas", 8), ("Daan", 7)):
        pupil = str(enrolled_pupil(container, groep=groep))
        container.register.add_pupil(Pupil(pupil, SCHOOL.id, given, "de Vries", f"{groep}A"))
        with container.engine.begin() as conn:
            conn.execute(
                parents.insert().values(
                    id=str(uuid.uuid4()),
                    pupil_id=pupil,
                    name=f"Ouder van {given}",
                    email=f"ouder.{given.lower()}@thuis.nl",
                )
            )
    return container


def planned_talks(container: Container) -> list[tuple[str, datetime | None]]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(talks.c.status, talks.c.starts_at)).all()
    return sorted((r.status, r.starts_at) for r in rows)


def test_directie_plans_a_whole_round_in_the_published_time(school: Container) -> None:
    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/beschikbaarheid?ronde={ROUND}").text
        assert "Gesprekken voor deze ronde inplannen" not in page  # a teacher does not plan
        form = rows_form(page, ("di 13-01", "13:00", "14:00", "lokaal 8"))
        form["ronde"] = ROUND
        assert juf.post("/beschikbaarheid", data=form).status_code == 303
        refused = juf.post(
            "/beschikbaarheid/inplannen",
            data={"csrf_token": csrf(page), "school": SCHOOL.id, "ronde": ROUND},
        )
        assert refused.status_code == 403
    with browse(school, "directie@school.nl") as directie:
        page = directie.get(f"/beschikbaarheid?ronde={ROUND}").text
        assert "Gesprekken voor deze ronde inplannen" in page
        data = {"csrf_token": csrf(page), "school": SCHOOL.id, "ronde": ROUND}
        done = directie.post("/beschikbaarheid/inplannen", data=data)
        assert done.status_code == 200
        assert "2 gesprekken ingepland voor adviesgesprek; 1 niet ingepland." in done.text
        assert done.text.count("de Vries</strong>: ") == 1  # the one left out, with the reason
        again = directie.post("/beschikbaarheid/inplannen", data=data)
        assert "0 gesprekken ingepland voor adviesgesprek; 2 stonden al gepland" in again.text
    found = planned_talks(school)
    assert len(found) == 3  # Daan is in groep 7
    starts = sorted(s.astimezone(AMSTERDAM) for status, s in found if s is not None)
    assert [(s.date(), s.hour, s.minute) for s in starts] == [
        (date(2026, 1, 13), 13, 0),
        (date(2026, 1, 13), 13, 30),
    ]


def test_without_published_time_nothing_is_planned_and_each_pupil_is_named(
    school: Container,
) -> None:
    with browse(school, "directie@school.nl") as directie:
        page = directie.get(f"/beschikbaarheid?ronde={ROUND}").text
        done = directie.post(
            "/beschikbaarheid/inplannen",
            data={"csrf_token": csrf(page), "school": SCHOOL.id, "ronde": ROUND},
        )
    assert "0 gesprekken ingepland voor adviesgesprek; 3 niet ingepland." in done.text
    assert done.text.count("Er is nog geen beschikbaarheid gepubliceerd") == 3
    assert [status for status, _ in planned_talks(school)] == ["requested"] * 3


def test_the_heroverweging_talks_are_not_planned_as_a_round_and_a_forged_post_is_refused(
    school: Container,
) -> None:
    with browse(school, "directie@school.nl") as directie:
        page = directie.get("/beschikbaarheid?ronde=reconsideration").text
        assert "Gesprekken voor deze ronde inplannen" not in page
        token = csrf(page)
        refused = directie.post(
            "/beschikbaarheid/inplannen",
            data={"csrf_token": token, "school": SCHOOL.id, "ronde": "reconsideration"},
        )
        assert refused.status_code == 422
        forged = directie.post(
            "/beschikbaarheid/inplannen",
            data={"csrf_token": "vals", "school": SCHOOL.id, "ronde": ROUND},
        )
        assert forged.status_code == 403
    assert planned_talks(school) == []


def test_directie_can_plan_the_round_for_one_class(school: Container) -> None:
    pupil = str(enrolled_pupil(school, groep=8))
    school.register.add_pupil(Pupil(pupil, SCHOOL.id, "Eva", "Bakker", "8B"))
    with browse(school, "directie@school.nl") as directie:
        page = directie.get(f"/beschikbaarheid?ronde={ROUND}").text
        assert '<option value="8B">klas 8B</option>' in page
        assert "Alle leerlingen van groep 8" in page
        data = {"csrf_token": csrf(page), "school": SCHOOL.id, "ronde": ROUND, "klas": "8B"}
        done = directie.post("/beschikbaarheid/inplannen", data=data)
        assert "0 gesprekken ingepland voor adviesgesprek; 1 niet ingepland." in done.text
        assert "<strong>Eva Bakker</strong>" in done.text
        data["klas"] = "7A"
        refused = directie.post("/beschikbaarheid/inplannen", data=data)
        assert refused.status_code == 422
        assert "Deze klas heeft geen leerlingen in groep 8." in refused.text
    assert len(planned_talks(school)) == 1
