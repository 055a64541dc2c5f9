"""How the talks are held, set on `/instellingen` through the real app on both databases:
directie sets the heroverweging talk and a round's talks, the policy in force follows and the
history says what changed; a bad length is 422 with the Dutch error beside its field and nothing
stored; a form without the talk blocks (as before they existed) keeps the stored talks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.schools.policies import settings_stream
from service.store.events import NewEvent
from service.store.port import Append, UnitOfWork
from tests.conftest import Clock
from tests.e2e.test_settings_page import SCHOOL, settings_form, stored_changes
from tests.e2e.web import PASSWORD, browse
from workflows.calendar import SchoolYear
from workflows.policy import Attendee, TalkSettings

TALK = "talk-reconsideration"
ROUND = "rounds-0"


@pytest.fixture
def staff(container: Container, clock: Clock) -> Container:
    clock.now = datetime(2025, 9, 15, 9, tzinfo=UTC)
    container.register.add_school(SCHOOL)
    for email, name, role in (
        ("directie@school.nl", "Dirk Directeur", Role.DIRECTIE),
        ("ib@school.nl", "Ilse IB", Role.IB),
    ):
        container.accounts.add_user(email, name, role, [Scope(SCHOOL.id)], PASSWORD)
    return container


def talk_fields(prefix: str, **values: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        f"{prefix}-minutes": "30",
        f"{prefix}-attendees": ["class_teacher"],
        f"{prefix}-with_pupil": "ja",
        f"{prefix}-place": "school",
        f"{prefix}-margin_working_days": "1",
        f"{prefix}-answer_within_days": "2",
        f"{prefix}-reminder_days_before": "2",
    }
    data.update({f"{prefix}-{k}": v for k, v in values.items()})
    return data


def test_directie_sets_the_heroverweging_talk_and_a_rounds_talks(staff: Container) -> None:
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen")
        assert "Hoe het heroverwegingsgesprek gaat" in page.text
        assert 'name="talk-reconsideration-minutes"' in page.text
        form = settings_form(page.text)
        form.update(
            talk_fields(
                TALK,
                minutes="45",
                attendees=["all_class_teachers", "ib"],
                place="online",
                separate_parents="ja",
            )
        )
        form.update(
            {
                f"{ROUND}-name": "adviesgesprek",
                f"{ROUND}-kind": "provisional_advice",
                f"{ROUND}-groep": "8",
                f"{ROUND}-first": "10-01",
                f"{ROUND}-last": "31-01",
            }
        )
        form.update(talk_fields(f"{ROUND}-talk", minutes="20"))
        form.pop(f"{ROUND}-talk-with_pupil")
        saved = directie.post("/instellingen", data=form)
        assert saved.status_code == 303, saved.text
        after = directie.get(saved.headers["location"]).text
    policy = staff.policies.policy_for(SCHOOL.id, SchoolYear(2025))
    assert policy.reconsideration_talk == TalkSettings(
        minutes=45,
        attendees=frozenset({Attendee.ALL_CLASS_TEACHERS, Attendee.IB}),
        online=True,
        separate_parents=True,
    )
    assert policy.rounds[0].talk == TalkSettings(minutes=20, with_pupil=False)
    history = after.split('id="geschiedenis"')[1]
    assert "<strong>Gesprek bij heroverweging: opzet</strong>: 30 minuten" in history
    assert "→ 45 minuten; beide leerkrachten (duo), intern begeleider en de leerling; online" in (
        history
    )
    assert "<strong>Gesprekken van ronde adviesgesprek</strong>" in history
    assert "20 minuten; leerkracht van de groep, zonder de leerling" in history
    assert 'value="45"' in after  # the form shows what is stored


def test_a_bad_length_is_refused_beside_its_field_and_nothing_is_stored(
    staff: Container,
) -> None:
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen").text
        form = settings_form(page)
        form.update(talk_fields(TALK, minutes="200", attendees=[]))
        refused = directie.post("/instellingen", data=form)
    assert refused.status_code == 422
    assert (
        'id="veld-talk-reconsideration-minutes-fout">kies 10 tot en met 120 minuten; 200 kan '
        "niet</div>"
    ) in refused.text
    assert "kies wie van school bij het gesprek is" in refused.text
    assert 'value="200"' in refused.text  # what was typed stays
    assert stored_changes(staff) == 0


def test_a_form_without_talk_blocks_keeps_the_stored_talks(staff: Container) -> None:
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen").text
        form = settings_form(page)
        form.update(talk_fields(TALK, minutes="50"))
        assert directie.post("/instellingen", data=form).status_code == 303
        page = directie.get("/instellingen").text
        older = settings_form(page, conversation_required=None)  # no talk fields at all
        assert directie.post("/instellingen", data=older).status_code == 303
    policy = staff.policies.policy_for(SCHOOL.id, SchoolYear(2025))
    assert policy.conversation_required is False
    assert policy.reconsideration_talk.minutes == 50
    assert stored_changes(staff) == 2


def test_the_ib_reads_how_the_talks_are_held(staff: Container) -> None:
    with browse(staff, "ib@school.nl") as ib:
        page = ib.get("/instellingen").text
    assert "Gesprek bij heroverweging: opzet" in page
    assert "30 minuten; leerkracht van de groep en de leerling; op school" in page
    assert 'name="talk-reconsideration-minutes"' not in page


def test_settings_stored_before_talks_existed_load_with_the_defaults(staff: Container) -> None:
    old = {
        "school_id": SCHOOL.id,
        "school_year": "2025-2026",
        "settings": {
            "conversation_required": False,
            "rounds": [
                {
                    "name": "adviesgesprek",
                    "kind": "provisional_advice",
                    "groep": 8,
                    "first": [1, 10],
                    "last": [1, 31],
                }
            ],
            "test_window": None,
            "notices": {},
        },
        "changes": [{"field": "conversation_required", "before": "ja", "after": "nee"}],
    }
    with staff.store.session() as session:
        session.commit(
            UnitOfWork(
                datetime(2025, 9, 1, 9, tzinfo=UTC),
                [
                    Append(
                        settings_stream(SCHOOL.id),
                        0,
                        [NewEvent("school_settings_changed", 1, old, {"actor_name": "Oud"})],
                    )
                ],
            )
        )
    policy = staff.policies.policy_for(SCHOOL.id, SchoolYear(2025))
    assert policy.conversation_required is False
    assert policy.rounds[0].talk == TalkSettings()
    assert policy.reconsideration_talk == TalkSettings()
    with browse(staff, "directie@school.nl") as directie:
        page = directie.get("/instellingen")
    assert page.status_code == 200
    assert 'name="rounds-0-talk-minutes"' in page.text
    assert 'value="30" id="veld-talk-reconsideration-minutes"' in page.text
