"""The staff's talk pages through the real app, on SQLite and PostgreSQL: the week calendar
(`/gesprekken`: the talk on its day and time in Europe/Amsterdam, scope), moving a talk by its
form (stored, or refused with the planner's reasons and nothing stored, 409 when stale, CSRF),
the talk column of the heroverweging worklist and directie's list of talks at risk."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.accounts.roles import Role, Scope
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.scheduling import views
from service.shared.context import Actor
from tests.conftest import Clock
from tests.e2e.heroverweging import SCHOOL, pupil_with_result
from tests.e2e.web import PASSWORD, browse, csrf
from workflows.conversations import EscalateTalk, Period, TalkKind
from workflows.scale import TestAdvice

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SYSTEM = Actor("planner", "systeem")
PARENT = Actor("ouder-1", "ouder")
WEEK = "2026-W12"  # Monday 16 March 2026; the heroverweging deadline is 24 March


@pytest.fixture
def school(container: Container, clock: Clock) -> Container:
    container.register.add_school(SCHOOL)
    for email, name, role, scope in (
        ("juf@school.nl", "Juf Anna", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
        ("meester@school.nl", "Meester Bas", Role.LEERKRACHT, Scope(SCHOOL.id, "8B")),
        ("ib@school.nl", "Ilse IB", Role.IB, Scope(SCHOOL.id)),
        ("directie@school.nl", "Dirk Directie", Role.DIRECTIE, Scope(SCHOOL.id)),
    ):
        container.accounts.add_user(email, name, role, [scope], PASSWORD)
    return container


def user_id(container: Container, email: str) -> str:
    return next(p.user_id for p in container.accounts.list_users() if p.email == email)


def pupil_with_talk(container: Container, clock: Clock, name: str, class_name: str) -> str:
    """A pupil whose toetsadvies (vwo) came in above the advice (vmbo-gt): a heroverweging with
    its talk requested; the clock left on Monday 16 March 2026, 08:00 in Amsterdam."""
    pupil = pupil_with_result(container, clock, name, class_name, TestAdvice.VWO)
    clock.now = datetime(2026, 3, 16, 7, tzinfo=UTC)
    return str(pupil)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Dutch local time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=AMSTERDAM)


def requested(container: Container, pupil: str) -> str:
    return container.talks.request(pupil, TalkKind.RECONSIDERATION, SYSTEM)


def planned(container: Container, pupil: str, start: datetime, room: str = "lokaal 12") -> str:
    talk_id = requested(container, pupil)
    container.talks.plan(talk_id, start, room, SYSTEM)
    return talk_id


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_with(html: str, needle: str) -> str:
    """The grid's or a table's row (<tr>…</tr>) holding `needle`."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        if needle in row:
            return str(row)
    raise AssertionError(f"no row with {needle!r}")


def stored(container: Container, talk_id: str) -> views.TalkRow:
    row = views.talk(container.engine, talk_id)
    assert row is not None
    return row


def move_form(html: str) -> dict[str, str]:
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version
    return {"csrf_token": csrf(html), "version": version.group(1)}


# -- the week ------------------------------------------------------------------------------------


def test_the_week_shows_the_talk_on_its_day_and_time_in_amsterdam(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = planned(school, noor, at(17, 14, 30))  # 13:30 UTC

    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/gesprekken?week={WEEK}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    # the block sits in the 14:30 row; that row has a free slot on every other weekday at 14:30
    # and none on Tuesday 17 March: the talk's own column
    row = row_with(page.text, f'href="/gesprekken/{talk}"')
    time = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
    assert time
    assert text_of(time.group(1)) == "14:30"
    slots = re.findall(r'data-start="([^"]+)"', row)
    assert slots == ["2026-03-16T14:30", "2026-03-18T14:30", "2026-03-19T14:30", "2026-03-20T14:30"]
    block = text_of(row)
    assert "Noor Jansen" in block
    assert "14:30–15:00" in block
    assert "voorgesteld, wacht op ouders" in block  # the state in words
    assert "lokaal 12" in block
    assert "Heroverweging · lokaal 12" in block
    # the list per day says the same, under Tuesday
    listed = page.text[page.text.index("dinsdag 17-03-2026") :]
    assert "14:30–15:00" in text_of(row_with(listed, "Noor Jansen"))
    # today (Monday 16 March) is marked, in words too
    assert re.search(r'aria-current="date">ma 16-03 <span class="g-today-label">vandaag', page.text)
    assert "gesprekkenweek" in [r[3] for r in reads_of(school.engine, noor)]
    # the week before holds nothing; its neighbours are linked
    assert 'href="/gesprekken?week=2026-W11"' in page.text
    assert 'href="/gesprekken?week=2026-W13"' in page.text
    with browse(school, "juf@school.nl") as juf:
        earlier = juf.get("/gesprekken?week=2026-W11")
        as_list = juf.get(f"/gesprekken?week={WEEK}&weergave=lijst")
    # no talk that week; only the jump to the next one names her
    assert earlier.text.count("Noor") == 1
    assert "Naar het eerstvolgende gesprek</a> (dinsdag 17-03-2026, Noor Jansen)" in earlier.text
    # the list view alone (no grid), and its week links stay in the list view
    assert 'class="g-grid' not in as_list.text
    assert "14:30–15:00" in text_of(row_with(as_list.text, "Noor Jansen"))
    assert 'href="/gesprekken?week=2026-W13&amp;weergave=lijst"' in as_list.text
    assert f'href="/gesprekken?week={WEEK}">Als weekrooster tonen' in as_list.text


def test_a_teacher_sees_only_the_talks_of_their_own_classes(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    sara = pupil_with_talk(school, clock, "Sara", "8B")
    noor_talk = planned(school, noor, at(17, 14, 30))
    sara_talk = planned(school, sara, at(17, 14, 30), room="lokaal 3")
    meester = user_id(school, "meester@school.nl")

    with browse(school, "juf@school.nl") as juf:
        own = juf.get(f"/gesprekken?week={WEEK}")
        colleague = juf.get(f"/gesprekken?week={WEEK}&wie={meester}")
        other_talk = juf.get(f"/gesprekken/{sara_talk}")
        other_move = juf.post(
            f"/gesprekken/{sara_talk}/verzetten",
            data={
                "csrf_token": csrf(own.text),
                "version": "1",
                "datum": "2026-03-18",
                "tijd": "09:00",
                "reden": "x",
            },
        )
    assert "Noor Jansen" in own.text
    assert "Sara" not in own.text
    assert sara_talk not in own.text
    assert colleague.status_code == 404
    assert other_talk.status_code == 404
    assert "Sara" not in other_talk.text
    assert other_move.status_code == 404
    assert stored(school, sara_talk).start == at(17, 14, 30)  # not moved

    with browse(school, "ib@school.nl") as ib:
        everyone = ib.get(f"/gesprekken?week={WEEK}")
        only_bas = ib.get(f"/gesprekken?week={WEEK}&wie={meester}")
    assert f'href="/gesprekken/{noor_talk}"' in everyone.text
    assert f'href="/gesprekken/{sara_talk}"' in everyone.text
    # at the same time: two lanes side by side under Tuesday
    assert re.search(r'colspan="2"[^>]*>di 17-03', everyone.text)
    assert "Sara Jansen" in only_bas.text
    assert "Noor" not in only_bas.text


# -- moving a talk -------------------------------------------------------------------------------


def test_moving_by_form_stores_the_new_time_and_a_double_booking_is_refused_with_its_reason(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    daan = pupil_with_talk(school, clock, "Daan", "8A")
    noor_talk = planned(school, noor, at(17, 14, 30))
    planned(school, daan, at(17, 15, 30))

    with browse(school, "juf@school.nl") as juf:
        form = juf.get(f"/gesprekken/{noor_talk}")
        assert form.status_code == 200
        assert "Verzetten" in form.text
        before = stored(school, noor_talk)
        clash = juf.post(
            f"/gesprekken/{noor_talk}/verzetten",
            data={
                **move_form(form.text),
                "datum": "2026-03-17",
                "tijd": "15:45",
                "lokaal": "lokaal 12",
                "reden": "De ouders kunnen later.",
            },
        )
        assert clash.status_code == 422
        assert "Niet verzet" in clash.text
        # the planner's reasons, in Dutch, at Amsterdam time
        assert "Juf Anna heeft dinsdag 17 maart om 15:30 al een gesprek." in clash.text
        assert "Er is niets opgeslagen" in clash.text
        assert views.talk(school.engine, noor_talk) == before  # nothing stored

        missing = juf.post(
            f"/gesprekken/{noor_talk}/verzetten",
            data={**move_form(form.text), "datum": "2026-03-18", "tijd": "", "reden": ""},
        )
        assert missing.status_code == 422
        assert "Vul een tijd in." in missing.text
        assert "Schrijf waarom het gesprek verzet wordt" in missing.text

        moved = juf.post(
            f"/gesprekken/{noor_talk}/verzetten",
            data={
                **move_form(form.text),
                "datum": "2026-03-18",
                "tijd": "09:15",
                "lokaal": "lokaal 12",
                "reden": "De ouders kunnen dinsdag niet.",
            },
        )
        assert moved.status_code == 303
        assert moved.headers["location"] == f"/gesprekken?week={WEEK}&verzet={noor_talk}"
        week = juf.get(moved.headers["location"])
        assert "staat nu op woensdag 18-03-2026 van 09:15 tot 09:45" in text_of(week.text)

        stale = juf.post(  # the form of before the move
            f"/gesprekken/{noor_talk}/verzetten",
            data={
                **move_form(form.text),
                "datum": "2026-03-19",
                "tijd": "10:00",
                "lokaal": "lokaal 12",
                "reden": "Nog een keer.",
            },
        )
        assert stale.status_code == 409
        assert "Intussen gewijzigd door Juf Anna op" in stale.text
    after = stored(school, noor_talk)
    assert after.start == at(18, 9, 15)
    assert after.end == at(18, 9, 45)
    assert after.sequence == before.sequence + 1


def test_a_move_without_the_sessions_csrf_token_is_refused_and_nothing_stored(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = planned(school, noor, at(17, 14, 30))
    before = views.talk(school.engine, talk)
    with browse(school, "juf@school.nl") as juf:
        form = move_form(juf.get(f"/gesprekken/{talk}").text)
        fields = {"datum": "2026-03-18", "tijd": "09:00", "lokaal": "", "reden": "Ziek."}
        forged = juf.post(
            f"/gesprekken/{talk}/verzetten", data={**fields, "version": form["version"]}
        )
        wrong = juf.post(
            f"/gesprekken/{talk}/verzetten", data={**form, **fields, "csrf_token": "nep"}
        )
    assert forged.status_code == 403
    assert wrong.status_code == 403
    assert "Formulier verlopen" in forged.text
    assert views.talk(school.engine, talk) == before


# -- the worklist and the talks at risk ----------------------------------------------------------


def test_the_worklist_shows_each_pupils_talk_state_with_a_link_to_its_week(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    daan = pupil_with_talk(school, clock, "Daan", "8A")
    pupil_with_talk(school, clock, "Sem", "8A")  # no talk requested (yet)
    planned(school, noor, at(17, 14, 30))
    daan_talk = requested(school, daan)

    with browse(school, "juf@school.nl") as juf:
        page = juf.get("/heroverwegingen")
    assert page.status_code == 200
    rows = {
        name: text_of(row_with(page.text, f">{name} Jansen<")) for name in ("Noor", "Daan", "Sem")
    }
    assert "voorgesteld, wacht op ouders 17-03-2026 14:30 In de week bekijken" in rows["Noor"]
    assert f'href="/gesprekken?week={WEEK}"' in row_with(page.text, ">Noor Jansen<")
    assert "nog in te plannen" in rows["Daan"]
    assert f'href="/gesprekken/{daan_talk}"' in row_with(page.text, ">Daan Jansen<")
    assert "niet gepland" in rows["Sem"]  # no talk: the trajectory's own word


def test_the_at_risk_list_shows_an_escalated_talk_with_what_blocks_it_and_who_must_act(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    daan = pupil_with_talk(school, clock, "Daan", "8A")
    planned(school, daan, at(17, 14, 30))  # on track: not listed
    noor_talk = requested(school, noor)
    escalate = EscalateTalk(
        code="no_slot_before_deadline",
        message="geen vrij moment vóór 24-03-2026 in de beschikbaarheid van Juf Anna",
    )
    school.talks.decide(noor_talk, escalate, SYSTEM)
    sem = pupil_with_talk(school, clock, "Sem", "8A")
    sem_talk = planned(school, sem, at(18, 9))
    no_answer = EscalateTalk(code="no_answer", message="de ouders hebben niet geantwoord")
    school.talks.decide(sem_talk, no_answer, SYSTEM)

    with browse(school, "directie@school.nl") as directie:
        page = directie.get("/gesprekken/risico")
        week = directie.get(f"/gesprekken?week={WEEK}")
        worklist = directie.get("/heroverwegingen")
        start = directie.get("/")
    assert page.status_code == 200
    assert "Daan" not in page.text
    row = text_of(row_with(page.text, f'href="/gesprekken/{noor_talk}"'))
    assert "Noor Jansen (8A)" in row
    assert "24-03-2026" in row
    assert "Geen vrij moment vóór 24-03-2026 in de beschikbaarheid van Juf Anna." in row
    assert "Directie: meer beschikbaarheid laten publiceren" in row
    assert 'href="/beschikbaarheid?ronde=reconsideration"' in row_with(page.text, noor_talk)
    noor_row = text_of(row_with(worklist.text, ">Noor Jansen<"))
    assert "in gevaar (directie gewaarschuwd): " in noor_row
    card = re.search(
        r'href="/gesprekken/risico">(<span class="app-card__count">.*?)</a>', start.text
    )
    assert card  # the start page counts them for directie
    assert text_of(card.group(1)) == "2 gesprekken in gevaar"

    sem_row = text_of(row_with(page.text, f'href="/gesprekken/{sem_talk}"'))
    assert "De ouders hebben niet geantwoord." in sem_row
    assert "Leerkracht: de ouders bellen" in sem_row
    assert "18-03-2026 09:00" in sem_row
    assert "in gevaar" in text_of(row_with(week.text, f'href="/gesprekken/{sem_talk}"'))
    assert text_of(page.text).index("Noor Jansen") < text_of(page.text).index("Sem Jansen")

    with browse(school, "juf@school.nl") as juf:
        refused = juf.get("/gesprekken/risico")
    assert refused.status_code == 403


def test_an_unknown_talk_or_week_is_not_found(school: Container, clock: Clock) -> None:
    with browse(school, "ib@school.nl") as ib:
        assert ib.get(f"/gesprekken/{uuid.uuid4()}").status_code == 404
        assert ib.get("/gesprekken?week=2026-W99").status_code == 404
        assert ib.get("/gesprekken?wie=iemand-anders").status_code == 404


def test_the_talk_page_shows_the_parents_request_for_another_time_until_it_is_moved(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = planned(school, noor, at(17, 14, 30))
    school.talks.parents_other_time(
        talk,
        "ouder-1",
        "Dinsdag werk ik.",
        [Period(start=at(17, 8), end=at(17, 18))],
        [Period(start=at(18, 9), end=at(18, 11))],
        Actor("ouder-1", "ouder"),
    )
    with browse(school, "ib@school.nl") as ib:
        risky = ib.get("/gesprekken/risico")
    row = text_of(row_with(risky.text, f'href="/gesprekken/{talk}"'))
    assert "De ouders vroegen een ander moment; het gesprek is nog niet verzet." in row
    assert "Leerkracht: het gesprek verzetten." in row
    with browse(school, "juf@school.nl") as juf:
        week = juf.get(f"/gesprekken?week={WEEK}")
        asked = juf.get(f"/gesprekken/{talk}")
        moved = juf.post(
            f"/gesprekken/{talk}/verzetten",
            data={
                **move_form(asked.text),
                "datum": "2026-03-18",
                "tijd": "09:30",
                "lokaal": "lokaal 12",
                "reden": "Op uw verzoek.",
            },
        )
        after = juf.get(f"/gesprekken/{talk}")
    assert "ouders vragen een ander moment" in text_of(row_with(week.text, talk))
    said = text_of(asked.text)
    assert "De ouders vragen een ander moment “Dinsdag werk ik.”" in said
    assert "Niet beschikbaar: dinsdag 17-03-2026 08:00–18:00" in said
    assert "Liefst: woensdag 18-03-2026 09:00–11:00" in said
    assert moved.status_code == 303
    assert "De ouders vragen een ander moment" not in after.text
    assert "woensdag 18-03-2026, 09:30–10:00" in text_of(after.text)
    assert stored(school, talk).status.value == "proposed"
    with browse(school, "ib@school.nl") as ib:
        assert talk not in ib.get("/gesprekken/risico").text


def test_a_move_on_a_form_from_before_the_parents_answered_says_the_parents_changed_it(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = planned(school, noor, at(17, 14, 30))
    with browse(school, "juf@school.nl") as juf:
        form = juf.get(f"/gesprekken/{talk}")
        school.talks.parents_other_time(talk, "ouder-1", "Dinsdag werk ik.", [], [], PARENT)
        stale = juf.post(
            f"/gesprekken/{talk}/verzetten",
            data={
                **move_form(form.text),
                "datum": "2026-03-18",
                "tijd": "09:30",
                "lokaal": "lokaal 12",
                "reden": "Op uw verzoek.",
            },
        )
    assert stale.status_code == 409
    assert "Intussen gewijzigd door de ouders op" in text_of(stale.text)
    assert stored(school, talk).start == at(17, 14, 30)


def test_a_talk_that_took_place_in_time_is_not_called_too_late_after_its_latest_end(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = planned(school, noor, at(17, 14, 30))
    late = pupil_with_talk(school, clock, "Sem", "8A")
    unplanned = requested(school, late)
    row = stored(school, talk)
    clock.now = row.latest_end + timedelta(hours=10)
    with browse(school, "juf@school.nl") as juf:
        page = text_of(juf.get(f"/gesprekken/{talk}").text)
        other = text_of(juf.get(f"/gesprekken/{unplanned}").text)
    assert "De laatste dag om het gesprek te voeren" not in page
    assert "De laatste dag om het gesprek te voeren (vóór het besluit) is voorbij." in other


def test_a_talk_the_planner_could_not_place_is_planned_by_hand_on_its_page(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = requested(school, noor)
    with browse(school, "juf@school.nl") as juf:
        form = juf.get(f"/gesprekken/{talk}")
        assert "Inplannen" in form.text
        assert 'name="reden"' not in form.text  # nothing to explain to parents yet
        sunday = juf.post(
            f"/gesprekken/{talk}/verzetten",
            data={**move_form(form.text), "datum": "2026-03-22", "tijd": "23:30", "lokaal": ""},
        )
        done = juf.post(
            f"/gesprekken/{talk}/verzetten",
            data={**move_form(form.text), "datum": "2026-03-19", "tijd": "13:00", "lokaal": "8A"},
        )
    assert sunday.status_code == 422
    assert "Niet ingepland" in sunday.text
    assert "werkdag" in sunday.text
    assert done.status_code == 303
    assert done.headers["location"] == f"/gesprekken?week={WEEK}&gepland={talk}"
    with browse(school, "juf@school.nl") as juf:
        week = text_of(juf.get(done.headers["location"]).text)
    assert "Ingepland Het gesprek met Noor Jansen staat nu op donderdag 19-03-2026" in week
    assert "De ouders krijgen een uitnodiging." in week
    row = stored(school, talk)
    assert row.start == at(19, 13)
    assert row.room == "8A"
    assert row.status.value == "proposed"


def test_the_week_page_loads_its_script_from_static_and_has_no_inline_script_or_style(
    school: Container, clock: Clock
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = planned(school, noor, at(17, 14, 30))
    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/gesprekken?week={WEEK}")
        script = re.search(
            r'<script src="(/static/calendar\.js\?v=\w+)" defer></script>', page.text
        )
        assert script
        served = juf.get(script.group(1))
    assert served.status_code == 200
    assert "javascript" in served.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    assert not re.search(r"\sstyle=|\son[a-z]+=", page.text)  # no inline style or handler
    # the block can be dragged, and is moved through the talk's own form
    assert f'draggable="true" data-move="/gesprekken/{talk}/verzetten"' in page.text
