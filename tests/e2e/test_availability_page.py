"""`/beschikbaarheid` through the real app on both databases: duo teachers each publish their own
days for the heroverweging talks and the planner's view has them; publishing again replaces the
earlier; bad rows are 422 with the Dutch error beside the field and nothing stored; "Meer regels"
and "Volgende week ook" change only the form; directie and IB see who published what and per day
how many talks fit, a teacher only their own; a forged POST, the board and a visitor are refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.scheduling import availability
from service.schools.register import School
from tests.conftest import Clock
from tests.e2e.web import PASSWORD, browse, csrf
from workflows import planning
from workflows.availability import AMSTERDAM, RECONSIDERATION

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")


@pytest.fixture
def staff(container: Container, clock: Clock) -> Container:
    clock.now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    container.register.add_school(SCHOOL)
    for email, name, role, scope in (
        ("directie@school.nl", "Dirk Directeur", Role.DIRECTIE, Scope(SCHOOL.id)),
        ("ib@school.nl", "Ilse IB", Role.IB, Scope(SCHOOL.id)),
        ("juf@school.nl", "Juf Jansen", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
        ("meester@school.nl", "Meester Mol", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
        ("bestuur@school.nl", "Bea Bestuur", Role.BESTUUR, Scope(SCHOOL.id)),
    ):
        container.accounts.add_user(email, name, role, [scope], PASSWORD)
    return container


def rows_form(
    page: str, *rows: tuple[str, str, str, str], action: str = "opslaan"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": csrf(page),
        "school": SCHOOL.id,
        "ronde": RECONSIDERATION,
        "action": action,
    }
    for index, (day, start, end, room) in enumerate([*rows, ("", "", "", "")]):
        data[f"rows-{index}-day"] = day
        data[f"rows-{index}-start"] = start
        data[f"rows-{index}-end"] = end
        data[f"rows-{index}-room"] = room
    return data


def user_id(container: Container, email: str) -> str:
    return next(
        a.principal.user_id for a in container.accounts.accounts() if a.principal.email == email
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=AMSTERDAM)


def stored(container: Container) -> int:
    return container.store.stream_version(availability.stream(SCHOOL.id))


def test_duo_teachers_each_publish_their_own_days_for_the_planner(staff: Container) -> None:
    with browse(staff, "juf@school.nl") as juf:
        page = juf.get("/beschikbaarheid?ronde=reconsideration")
        assert page.status_code == 200
        assert "Heroverwegingsgesprekken" in page.text
        assert "15-03-2026 t/m 24-03-2026" in page.text
        assert 'href="/beschikbaarheid" aria-current="page"' in page.text
        saved = juf.post(
            "/beschikbaarheid",
            data=rows_form(
                page.text, ("di 17 mrt", "13:00", "16:00", "lokaal 8"), ("ma", "8:30", "10:00", "8")
            ),
        )
        assert saved.status_code == 303, saved.text
        after = juf.get(saved.headers["location"]).text
    assert "Uw beschikbaarheid is opgeslagen" in after
    assert 'value="di 17-03-2026"' in after
    assert 'value="ma 16-03-2026"' in after
    assert 'value="ma 23-03-2026"' in after
    assert "Dekking van de school" not in after  # a teacher sees only their own
    with browse(staff, "meester@school.nl") as meester:
        theirs = meester.get("/beschikbaarheid").text
        assert 'value="di 17-03-2026"' not in theirs
        saved = meester.post(
            "/beschikbaarheid", data=rows_form(theirs, ("do 19-03", "9:00", "12:00", "lokaal 8"))
        )
        assert saved.status_code == 303
    juf_id, meester_id = user_id(staff, "juf@school.nl"), user_id(staff, "meester@school.nl")
    found = {
        (a.person, a.room): a.windows for a in availability.of(staff, SCHOOL.id, RECONSIDERATION)
    }
    assert found == {
        (juf_id, "lokaal 8"): (planning.Window(at(17, 13), at(17, 16)),),
        (juf_id, "8"): (
            planning.Window(at(16, 8, 30), at(16, 10)),
            planning.Window(at(23, 8, 30), at(23, 10)),
        ),
        (meester_id, "lokaal 8"): (planning.Window(at(19, 9), at(19, 12)),),
    }
    assert availability.of(staff.store, SCHOOL.id, "adviesgesprek") == []
    assert stored(staff) == 2


def test_publishing_again_replaces_the_earlier_and_the_same_again_stores_nothing(
    staff: Container,
) -> None:
    with browse(staff, "juf@school.nl") as juf:
        page = juf.get("/beschikbaarheid").text
        juf.post("/beschikbaarheid", data=rows_form(page, ("17-03", "13:00", "16:00", "8")))
        page = juf.get("/beschikbaarheid").text
        juf.post("/beschikbaarheid", data=rows_form(page, ("18-03", "9:00", "11:00", "8")))
        page = juf.get("/beschikbaarheid").text
        same = juf.post(
            "/beschikbaarheid", data=rows_form(page, ("wo 18-03-2026", "09:00", "11:00", "8"))
        )
        assert same.headers["location"].endswith("bericht=ongewijzigd")
    (only,) = availability.of(staff, SCHOOL.id, RECONSIDERATION)
    assert only.windows == (planning.Window(at(18, 9), at(18, 11)),)
    assert stored(staff) == 2


def test_bad_rows_are_refused_beside_their_fields_and_nothing_is_stored(staff: Container) -> None:
    with browse(staff, "juf@school.nl") as juf:
        page = juf.get("/beschikbaarheid").text
        refused = juf.post(
            "/beschikbaarheid",
            data=rows_form(
                page,
                ("17-03", "16:00", "13:00", "8"),
                ("26-03", "9:00", "10:00", "8"),
                ("09-03", "9:00", "10:00", ""),
            ),
        )
    assert refused.status_code == 422
    text = refused.text
    assert 'id="veld-rows-0-end-fout">de eindtijd ligt niet na de begintijd</div>' in text
    assert "26-03-2026 valt buiten de periode (15-03-2026 t/m 24-03-2026)" in text
    assert "09-03-2026 valt buiten de periode" in text
    assert "vul een lokaal in" in text
    assert "Er is niets opgeslagen" in text
    assert 'value="26-03"' in text  # what was typed stays
    assert stored(staff) == 0


def test_more_rows_and_next_week_change_only_the_form(staff: Container) -> None:
    with browse(staff, "juf@school.nl") as juf:
        page = juf.get("/beschikbaarheid").text
        more = juf.post(
            "/beschikbaarheid",
            data=rows_form(page, ("17-03", "13:00", "16:00", "8"), action="meer"),
        )
        assert more.status_code == 200
        assert 'name="rows-6-day"' in more.text
        copied = juf.post(
            "/beschikbaarheid",
            data=rows_form(page, ("di 17-03-2026", "13:00", "16:00", "8"), action="kopie-0"),
        )
        assert copied.status_code == 200
        assert 'value="di 24-03-2026" id="veld-rows-1-day" name="rows-1-day"' in copied.text
        too_late = juf.post(
            "/beschikbaarheid",
            data=rows_form(page, ("di 24-03-2026", "13:00", "16:00", "8"), action="kopie-0"),
        )
        assert too_late.status_code == 422
        assert "een week later valt buiten de periode" in too_late.text
        every = juf.post(
            "/beschikbaarheid",
            data=rows_form(page, ("di", "13:00", "16:00", "8"), action="kopie-0"),
        )
        assert every.status_code == 422
        assert "deze regel geldt al voor elke week van de ronde" in every.text
    # Enter in a field saves: the form's first button is "opslaan", not a row's copy
    form = page.split('action="/beschikbaarheid" novalidate>')[1]
    assert re.findall(r'name="action" value="([^"]+)"', form)[0] == "opslaan"
    assert stored(staff) == 0


def test_directie_and_ib_see_who_published_and_how_many_talks_fit_per_day(
    staff: Container,
) -> None:
    with browse(staff, "juf@school.nl") as juf:
        page = juf.get("/beschikbaarheid").text
        juf.post("/beschikbaarheid", data=rows_form(page, ("17-03", "13:00", "16:00", "lokaal 8")))
    with browse(staff, "meester@school.nl") as meester:
        page = meester.get("/beschikbaarheid").text
        meester.post(
            "/beschikbaarheid", data=rows_form(page, ("17-03", "9:00", "10:00", "lokaal 8"))
        )
    for email in ("directie@school.nl", "ib@school.nl"):
        with browse(staff, email) as overseer:
            page = overseer.get("/beschikbaarheid?ronde=reconsideration").text
        coverage = page.split('id="dekking"')[1]
        assert "Juf Jansen" in coverage
        assert "leerkracht 8A" in coverage
        assert "di 17 mrt 13:00–16:00 lokaal 8" in coverage
        assert '<td class="utrecht-table__cell" data-label="Gesprekken">6</td>' in coverage
        assert "Ilse IB" in coverage
        assert "nog niets doorgegeven" in coverage
        assert "di 17-03-2026" in coverage
        assert '<td class="utrecht-table__cell" data-label="Gesprekken">8</td>' in coverage
        assert "Juf Jansen, Meester Mol" in coverage or "Meester Mol, Juf Jansen" in coverage
        assert "Samen is er plaats voor <strong>8</strong> gesprekken." in coverage


def test_a_forged_post_is_refused_and_stores_nothing(staff: Container) -> None:
    with browse(staff, "juf@school.nl") as juf:
        page = juf.get("/beschikbaarheid").text
        data = rows_form(page, ("17-03", "13:00", "16:00", "8"))
        data["csrf_token"] = "vals"
        refused = juf.post("/beschikbaarheid", data=data)
    assert refused.status_code == 403
    assert stored(staff) == 0


def test_the_board_is_refused_a_visitor_logs_in_and_an_unknown_round_is_not_found(
    staff: Container,
) -> None:
    with browse(staff, "bestuur@school.nl") as board:
        refused = board.get("/beschikbaarheid")
        assert refused.status_code == 403
        assert "geeft u geen beschikbaarheid" in refused.text
        assert 'href="/beschikbaarheid"' not in refused.text
    with browse(staff, None) as visitor:
        assert visitor.get("/beschikbaarheid").headers["location"] == "/login"
    with browse(staff, "juf@school.nl") as juf:
        assert juf.get("/beschikbaarheid?ronde=bestaat-niet").status_code == 404
        assert juf.get("/beschikbaarheid?school=school-2").status_code == 404
