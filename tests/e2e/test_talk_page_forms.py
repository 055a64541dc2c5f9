"""Recording a talk as held or cancelling it on its page (`/gesprekken/{id}`), through the real
app on SQLite and PostgreSQL: a round's talk (held with whoever attended, cancelled with a
reason), the heroverweging talk (parents required; the trajectory's event written too), the
Dutch today as the default date, 422 beside the field with nothing stored, 409 when stale,
403 without the session's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.bootstrap import Container
from service.store.schema import events
from service.store.streams import trajectory_stream
from tests.conftest import Clock
from tests.e2e.heroverweging import SCHOOL
from tests.e2e.test_talk_pages import (
    SYSTEM,
    at,
    move_form,
    pupil_with_talk,
    school,  # noqa: F401 (the fixture)
    stored,
    text_of,
)
from tests.e2e.web import browse
from workflows.calendar import SchoolYear
from workflows.conversations import TalkKind, TalkStatus
from workflows.cycles import ConversationRound, MonthDay, RoundKind
from workflows.policy import SchoolPolicy

ROUND = "oudergesprek maart"


def round_talk(container: Container, pupil: str) -> str:
    """A talk of the school's round "oudergesprek maart" (1–31 March), planned on 17 March."""
    settings = container.policies.settings(SCHOOL.id)
    policy = SchoolPolicy(
        rounds=(ConversationRound(ROUND, RoundKind.PROGRESS, 8, MonthDay(3, 1), MonthDay(3, 31)),)
    )
    container.policies.change(
        SCHOOL.id,
        SchoolYear(2025),
        policy,
        user_id="d",
        user_name="Dirk",
        role="directie",
        expected_version=settings.version,
    )
    talk_id = container.talks.request(pupil, TalkKind.ROUND, SYSTEM, round_name=ROUND)
    container.talks.plan(talk_id, at(17, 14), "lokaal 12", SYSTEM)
    return talk_id


def heroverweging_talk(container: Container, pupil: str) -> str:
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, SYSTEM)
    container.talks.plan(talk_id, at(17, 14), "lokaal 12", SYSTEM)
    return talk_id


def pupil_events(container: Container, pupil: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(
            conn.execute(
                select(events.c.event_type)
                .where(events.c.stream_id == trajectory_stream(pupil))
                .order_by(events.c.position)
            ).scalars()
        )


def opened(
    container: Container, clock: Clock, make: Callable[[Container, str], str]
) -> tuple[str, str, TestClient, dict[str, str]]:
    """Noor of 8A, her talk (`make`), Juf Anna signed in and the talk page's form fields."""
    noor = pupil_with_talk(container, clock, "Noor", "8A")
    talk = make(container, noor)
    juf = browse(container, "juf@school.nl")
    return noor, talk, juf, move_form(juf.get(f"/gesprekken/{talk}").text)


def field_error(html: str, name: str) -> str:
    found = re.search(rf'id="veld-{name}-fout">([^<]*)<', html)
    return found.group(1) if found else ""


def test_a_round_talk_is_recorded_as_held_with_who_attended_and_the_notes(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = round_talk(school, noor)
    clock.now = at(17, 16)
    before = pupil_events(school, noor)

    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/gesprekken/{talk}")
        assert "Gesprek vastleggen als gevoerd" in page.text
        assert "Afzeggen" in page.text
        form = {**move_form(page.text), "gevoerd_op": "2026-03-17", "notities": "Goed gesprek."}
        answer = juf.post(
            f"/gesprekken/{talk}/gevoerd",
            data={**form, "aanwezig": ["teacher", "pupil"]},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/gesprekken/{talk}?vastgelegd=gevoerd"
        shown = juf.get(answer.headers["location"]).text

    assert "Vastgelegd: het gesprek is gevoerd." in text_of(shown)
    assert stored(school, talk).status is TalkStatus.HELD
    held = school.talks.load(talk)
    assert held.status is TalkStatus.HELD
    history = school.talks.history(talk)
    assert history[-1].held_on.isoformat() == "2026-03-17"  # type: ignore[attr-defined]
    assert [p.value for p in history[-1].attendees] == ["teacher", "pupil"]  # type: ignore[attr-defined]
    assert history[-1].notes == "Goed gesprek."  # type: ignore[attr-defined]
    assert pupil_events(school, noor) == before  # a round's talk is not the trajectory's
    assert "Gesprek vastleggen als gevoerd" not in shown  # held: nothing more to record


def test_a_round_talk_is_cancelled_with_its_reason(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = round_talk(school, noor)

    with browse(school, "juf@school.nl") as juf:
        page = juf.get(f"/gesprekken/{talk}")
        answer = juf.post(
            f"/gesprekken/{talk}/afzeggen",
            data={**move_form(page.text), "afzegreden": "De juf is ziek."},
        )
        assert answer.status_code == 303
        shown = juf.get(answer.headers["location"]).text

    assert "Het gesprek is afgezegd." in text_of(shown)
    assert stored(school, talk).status is TalkStatus.CANCELLED
    assert school.talks.history(talk)[-1].reason == "De juf is ziek."  # type: ignore[attr-defined]
    assert 'action="/gesprekken/' + talk + '/afzeggen"' not in shown
    assert 'action="/gesprekken/' + talk + '/gevoerd"' in shown  # held after all: still possible


def test_the_held_date_defaults_to_the_dutch_today_not_utc_s(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = round_talk(school, noor)
    clock.now = datetime(2026, 3, 17, 23, 30, tzinfo=UTC)  # 00:30 on 18 March in Amsterdam

    with browse(school, "juf@school.nl") as juf:
        html = juf.get(f"/gesprekken/{talk}").text
    held = re.search(r'<input[^>]*id="veld-gevoerd_op"[^>]*>', html)
    assert held
    assert 'value="2026-03-17"' in held.group(0)  # the talk's day (17 March), once it came


def test_mistakes_are_shown_beside_their_fields_and_nothing_is_stored(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    _, talk, juf, form = opened(school, clock, round_talk)
    version = stored(school, talk).version

    with juf:
        empty = juf.post(f"/gesprekken/{talk}/gevoerd", data={**form, "gevoerd_op": ""})
        future = juf.post(
            f"/gesprekken/{talk}/gevoerd",
            data={**form, "gevoerd_op": "2026-03-20", "aanwezig": ["teacher"]},
        )
        no_reason = juf.post(f"/gesprekken/{talk}/afzeggen", data={**form, "afzegreden": " "})

    assert empty.status_code == 422
    assert field_error(empty.text, "gevoerd_op") == "Vul de datum van het gesprek in."
    assert field_error(empty.text, "aanwezig") == "Kies wie er bij het gesprek waren."
    assert future.status_code == 422
    assert "ligt in de toekomst" in field_error(future.text, "gevoerd_op")
    assert 'value="2026-03-20"' in future.text  # the input is kept
    assert no_reason.status_code == 422
    assert field_error(no_reason.text, "afzegreden") == "Schrijf waarom het gesprek niet doorgaat."
    assert stored(school, talk).version == version
    assert stored(school, talk).status is TalkStatus.PROPOSED


def test_the_heroverweging_talk_needs_the_parents_and_writes_the_trajectory_s_event(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    noor = pupil_with_talk(school, clock, "Noor", "8A")
    talk = heroverweging_talk(school, noor)
    clock.now = at(17, 16)  # after the talk (a session signed in the day before has expired)

    with browse(school, "juf@school.nl") as juf:
        form = {**move_form(juf.get(f"/gesprekken/{talk}").text), "gevoerd_op": "2026-03-17"}
        without = juf.post(f"/gesprekken/{talk}/gevoerd", data={**form, "aanwezig": ["teacher"]})
        assert without.status_code == 422
        assert "met de ouders" in field_error(without.text, "aanwezig")
        assert "reconsideration_conversation_held" not in pupil_events(school, noor)
        with_parents = juf.post(
            f"/gesprekken/{talk}/gevoerd", data={**form, "aanwezig": ["parents", "teacher"]}
        )
    assert with_parents.status_code == 303
    assert stored(school, talk).status is TalkStatus.HELD
    assert pupil_events(school, noor)[-1] == "reconsideration_conversation_held"


def test_cancelling_the_heroverweging_talk_cancels_the_trajectory_s_conversation(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    noor, talk, juf, form = opened(school, clock, heroverweging_talk)
    with juf:
        answer = juf.post(
            f"/gesprekken/{talk}/afzeggen", data={**form, "afzegreden": "De ouders zijn ziek."}
        )
    assert answer.status_code == 303
    assert stored(school, talk).status is TalkStatus.CANCELLED
    assert pupil_events(school, noor)[-1] == "reconsideration_conversation_cancelled"


def test_a_form_from_before_a_change_is_stale_and_without_the_csrf_token_refused(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    _, talk, juf, form = opened(school, clock, round_talk)
    with juf:
        school.talks.move(talk, at(18, 14), "lokaal 12", "De juf kan dinsdag niet.", SYSTEM)
        version = stored(school, talk).version
        stale = juf.post(f"/gesprekken/{talk}/afzeggen", data={**form, "afzegreden": "Ziek."})
        forged = juf.post(
            f"/gesprekken/{talk}/afzeggen",
            data={**form, "csrf_token": "niet-van-u", "version": str(version), "afzegreden": "x"},
        )
    assert stale.status_code == 409
    assert "Intussen gewijzigd door" in stale.text
    assert "Ziek." in stale.text  # the input is kept
    assert forged.status_code == 403
    assert stored(school, talk).status is TalkStatus.PROPOSED
    assert stored(school, talk).version == version


def test_a_teacher_of_another_class_cannot_record_the_talk(
    school: Container,  # noqa: F811
    clock: Clock,
) -> None:
    _, talk, _, form = opened(school, clock, round_talk)
    with browse(school, "meester@school.nl") as bas:
        answer = bas.post(f"/gesprekken/{talk}/afzeggen", data={**form, "afzegreden": "x"})
    assert answer.status_code == 404
    assert stored(school, talk).status is TalkStatus.PROPOSED
