"""`/instellingen` through the real app on both databases: directie changes the school's
conversation setting and the next command follows it; the change is in the history with who and
when; a seed school's cycle fills the form as a template with its legal warnings; bad input is
422 with the Dutch error beside its field and nothing stored; a stale form is 409 "intussen
gewijzigd door"; a POST without the session's CSRF token is refused; the IB reads but cannot
change; a teacher is refused; another school is not found; a visitor is sent to log in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container
from service.schools.policies import settings_stream
from service.schools.register import School
from tests.conftest import Clock
from tests.e2e.web import PASSWORD, browse, csrf, hidden
from workflows.calendar import SchoolYear
from workflows.commands import (
    EnrolPupil,
    GiveFinalAdvice,
    GiveProvisionalAdvice,
    RaiseAdvice,
    ReceiveTestResult,
)
from workflows.errors import DomainError
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice

SCHOOL = School(id="school-1", brin="01AA", name="De Eerste School")
OTHER = School(id="school-2", brin="02BB", name="De Tweede School")
NOTICE = "notice-reconsideration_required"


@pytest.fixture
def staff(container: Container, clock: Clock) -> Container:
    clock.now = datetime(2025, 9, 15, 9, tzinfo=UTC)
    container.register.add_school(SCHOOL)
    container.register.add_school(OTHER)
    for email, name, role, scope in (
        ("directie@school.nl", "Dirk Directeur", Role.DIRECTIE, Scope(SCHOOL.id)),
        ("ib@school.nl", "Ilse IB", Role.IB, Scope(SCHOOL.id)),
        ("juf@school.nl", "Juf Jansen", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
        ("directie2@school.nl", "Daan Directeur", Role.DIRECTIE, Scope(SCHOOL.id)),
    ):
        container.accounts.add_user(email, name, role, [scope], PASSWORD)
    return container


def settings_form(page: str, **changes: str | None) -> dict[str, Any]:
    """The settings form as the page shows it (defaults: conversation on, notice to the class
    teachers and IB), with `changes` (None: leave the field out, as an unticked box)."""
    data: dict[str, Any] = {
        "csrf_token": csrf(page),
        "school": SCHOOL.id,
        "jaar": "2025-2026",
        "version": hidden(page, "version"),
        "action": "opslaan",
        "conversation_required": "ja",
        f"{NOTICE}-class_teachers": "ja",
        f"{NOTICE}-ib": "ja",
        f"{NOTICE}-extra": "",
        "test_first": "",
        "test_last": "",
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def stored_changes(container: Container) -> int:
    return container.store.stream_version(settings_stream(SCHOOL.id))


def conversation_not_required(container: Container) -> None:
    """Directie's first change of 2025-2026, made before the test: no conversation required."""
    container.policies.change(
        SCHOOL.id,
        SchoolYear(2025),
        SchoolPolicy(conversation_required=False),
        user_id="u",
        user_name="Dirk Directeur",
        role="directie",
        expected_version=0,
    )


def pupil_in_reconsideration(container: Container, clock: Clock) -> uuid.UUID:
    pupil = uuid.uuid4()
    ctx = CommandContext(actor=Actor("juf", "leerkracht"))
    clock.now = datetime(2026, 1, 15, 10, tzinfo=UTC)
    container.trajectories.execute_all(
        pupil,
        [
            EnrolPupil(
                school_id=SCHOOL.id,
                school_year="2025-2026",
                groep=8,
                enrolled_on=date(2025, 8, 25),
            ),
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
        ],
        ctx,
    )
    clock.now = datetime(2026, 3, 12, 10, tzinfo=UTC)
    result = ReceiveTestResult(
        provider="IEP",
        delivery_id="d1",
        test_advice=TestAdvice.HAVO_VWO,
        received_on=date(2026, 3, 12),
    )
    container.trajectories.execute(pupil, result, ctx)
    return pupil


def test_directie_drops_the_conversation_and_the_next_command_follows_it(
    staff: Container, clock: Clock
) -> None:
    pupil = pupil_in_reconsideration(staff, clock)
    decision = RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=date(2026, 3, 12))
    final = GiveFinalAdvice(given_on=date(2026, 3, 12))
    ctx = CommandContext(actor=Actor("juf", "leerkracht"))
    with pytest.raises(DomainError) as refused:
        staff.trajectories.execute(pupil, decision, ctx)
    assert refused.value.code == "conversation_not_held"

    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen")
        assert page.status_code == 200
        assert "Instellingen van De Eerste School" in page.text
        assert "nog niets ingesteld" in page.text
        assert "Er is geen gespreksronde voor het voorlopig schooladvies in groep 8." in page.text
        assert 'href="/instellingen" aria-current="page"' in page.text
        saved = directie.post(
            "/instellingen",
            data=settings_form(
                page.text,
                conversation_required=None,
                test_first="2026-02-02",
                test_last="2026-02-20",
            ),
        )
        assert saved.status_code == 303
        assert saved.headers["location"].endswith("jaar=2025-2026&bericht=opgeslagen")
        after = directie.get(saved.headers["location"])
    assert "De instellingen zijn opgeslagen" in after.text
    assert "niet verplicht: het definitief advies kan ook zonder gesprek" in after.text
    history = after.text.split('id="geschiedenis"')[1]
    assert "Dirk Directeur" in history
    assert "<strong>Gesprek bij heroverweging verplicht</strong>: ja → nee" in history
    assert "<strong>Toetsperiode</strong>: nog niet bekend → 02-03-2026" not in history
    assert "nog niet bekend → 02-02-2026 t/m 20-02-2026" in history
    assert stored_changes(staff) == 1

    raised = staff.trajectories.execute(pupil, decision, ctx)  # the next command follows it
    assert raised.event_types == ["advice_raised"]
    result = staff.trajectories.execute(pupil, final, ctx)
    assert result.event_types == ["final_advice_given"]
    assert staff.policies.policy_for(SCHOOL.id, SchoolYear(2025)).conversation_required is False


def test_a_template_fills_the_rounds_with_their_legal_warnings_and_stores_nothing(
    staff: Container,
) -> None:
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen").text
        assert "Sjabloon: De Brandaris" in page
        assert "Sjabloon: Toermalijn" in page
        filled = directie.post(
            "/instellingen",
            data={
                "csrf_token": csrf(page),
                "school": SCHOOL.id,
                "jaar": "2025-2026",
                "action": "sjabloon",
                "template": "toermalijn",
            },
        )
        assert filled.status_code == 200
        assert "De rondes van Toermalijn zijn ingevuld" in filled.text
        assert 'value="voorlopig adviesgesprek"' in filled.text
        assert (
            "Strijdig met de wet: het voorlopig advies valt vóór de wettelijke periode "
            "(10-1-2026 t/m 31-1-2026)" in filled.text
        )
        assert stored_changes(staff) == 0
        # saved as filled in: the rounds are stored, the warnings stay beside them
        form = settings_form(filled.text)
        for index, (name, kind, groep, first, last) in enumerate(
            [
                ("startgesprek groep 8", "start", "8", "25-08", "30-09"),
                ("voorlopig adviesgesprek", "provisional_advice", "8", "01-11", "30-11"),
            ]
        ):
            form.update(
                {
                    f"rounds-{index}-name": name,
                    f"rounds-{index}-kind": kind,
                    f"rounds-{index}-groep": groep,
                    f"rounds-{index}-first": first,
                    f"rounds-{index}-last": last,
                }
            )
        assert directie.post("/instellingen", data=form).status_code == 303
        after = directie.get("/instellingen").text
    assert 'value="voorlopig adviesgesprek"' in after
    assert "het voorlopig advies valt vóór de wettelijke periode" in after
    rounds = staff.policies.policy_for(SCHOOL.id, SchoolYear(2025)).rounds
    assert [r.name for r in rounds] == ["startgesprek groep 8", "voorlopig adviesgesprek"]


def test_bad_input_is_422_with_the_error_beside_the_field_and_nothing_is_stored(
    staff: Container,
) -> None:
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen").text
        answer = directie.post(
            "/instellingen",
            data=settings_form(
                page,
                **{
                    "rounds-0-name": "adviesgesprek",
                    "rounds-0-kind": "provisional_advice",
                    "rounds-0-groep": "8",
                    "rounds-0-first": "10-01",
                    "rounds-0-last": "32-01",
                    f"{NOTICE}-extra": "geen-adres",
                },
            ),
        )
    assert answer.status_code == 422
    text = answer.text
    assert "Er is niets opgeslagen" in text
    assert 'aria-describedby="veld-rounds-0-last-fout"' in text
    assert (
        '<div class="utrecht-form-field__error-message utrecht-form-field-error-message '
        'app-field-error" id="veld-rounds-0-last-fout">&#39;32-01&#39; is geen bestaande dag</div>'
    ) in text
    assert "&#39;geen-adres&#39; is geen e-mailadres" in text
    assert 'value="adviesgesprek"' in text  # what was typed stays
    assert stored_changes(staff) == 0


def test_a_stale_form_is_409_intussen_gewijzigd_and_a_missing_csrf_token_403(
    staff: Container,
) -> None:
    with (
        browse(staff, "directie@school.nl") as first,
        browse(staff, "directie2@school.nl") as second,
    ):
        mine = first.get("/instellingen").text
        theirs = second.get("/instellingen").text
        done = second.post("/instellingen", data=settings_form(theirs, conversation_required=None))
        assert done.status_code == 303
        stale = first.post("/instellingen", data=settings_form(mine))
        assert stale.status_code == 409
        assert "Intussen gewijzigd door Daan Directeur" in stale.text
        assert "niet verplicht: het definitief advies kan ook zonder gesprek" in stale.text
        forged = settings_form(mine, csrf_token="vals", version="1")
        assert first.post("/instellingen", data=forged).status_code == 403
    assert stored_changes(staff) == 1
    assert staff.policies.policy_for(SCHOOL.id, SchoolYear(2025)).conversation_required is False


def test_the_ib_reads_but_cannot_change_a_teacher_is_refused_a_visitor_logs_in(
    staff: Container,
) -> None:
    conversation_not_required(staff)
    with browse(staff, "ib@school.nl") as ib:
        page = ib.get("/instellingen")
        assert page.status_code == 200
        assert "niet verplicht: het definitief advies kan ook zonder gesprek" in page.text
        assert "Alleen de directie wijzigt deze instellingen." in page.text
        assert 'name="version"' not in page.text
        assert "Dirk Directeur" in page.text
        refused = ib.post(
            "/instellingen",
            data={
                "csrf_token": csrf(page.text),
                "school": SCHOOL.id,
                "jaar": "2025-2026",
                "version": "1",
                "action": "opslaan",
                "conversation_required": "ja",
                f"{NOTICE}-ib": "ja",
            },
        )
        assert refused.status_code == 403
        assert ib.get(f"/instellingen?school={OTHER.id}").status_code == 404
    assert stored_changes(staff) == 1
    with browse(staff, "juf@school.nl") as juf:
        answer = juf.get("/instellingen")
        assert answer.status_code == 403
        assert "Geen toegang" in answer.text
        assert "verplicht" not in answer.text
    with browse(staff, None) as visitor:
        answer = visitor.get("/instellingen")
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")
        assert visitor.post("/instellingen", data={"school": SCHOOL.id}).status_code == 303


def test_a_later_year_shows_the_carried_over_settings(staff: Container) -> None:
    conversation_not_required(staff)
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get(f"/instellingen?school={SCHOOL.id}&jaar=2026-2027")
        assert page.status_code == 200
        assert "overgenomen uit 2025-2026" in page.text
        assert directie.get("/instellingen?jaar=2025").status_code == 404
