"""The "Toetsuitslagen" page: the intern begeleider sees what the test providers delivered, the
deliveries that need someone first with their reason in Dutch; teachers do not; nobody without
logging in; every pupil named on it is in the access log."""

from __future__ import annotations

import uuid

import pytest

from service.accounts.roles import Role, Scope
from service.audit.access_log import reads_of
from service.bootstrap import Container
from service.intake.processing import process_pending
from service.schools.register import Pupil
from tests.conftest import Clock
from tests.e2e.intake import SCHOOL, URL, provider_client, pupil_with_advice
from tests.e2e.test_result_intake import delivery
from tests.e2e.web import PASSWORD, browse
from workflows.scale import SchoolAdvice


@pytest.fixture
def delivered(container: Container, clock: Clock) -> uuid.UUID:
    """A higher result for Noor and one for a LAS-key the school does not know, processed."""
    with provider_client(container, clock) as provider:
        noor = pupil_with_advice(container, clock, SchoolAdvice.HAVO)
        assert provider.post(URL, json=delivery(noor, "vwo")).status_code == 202
        stranger = delivery(uuid.UUID(int=7), "havo/vwo", "rs-onbekend")
        assert provider.post(URL, json=stranger).status_code == 202
    assert process_pending(container) == 2
    for email, role, scope in (
        ("ib@school.nl", Role.IB, Scope(SCHOOL.id)),
        ("juf@school.nl", Role.LEERKRACHT, Scope(SCHOOL.id, "8A")),
    ):
        container.accounts.add_user(email, email, role, [scope], PASSWORD)
    return noor


def test_the_ib_sees_the_unknown_pupil_first_and_the_processed_result_below(
    container: Container, delivered: uuid.UUID
) -> None:
    with browse(container, "ib@school.nl") as ib:
        assert 'href="/toetsuitslagen"' in ib.get("/").text
        page = ib.get("/toetsuitslagen")
    assert page.status_code == 200
    text = page.text
    assert "verwerkt: <strong>1</strong>" in text
    assert "leerling onbekend: <strong>1</strong>" in text
    attention, latest = text.split("<h4>Aandacht nodig</h4>")[1].split("<h4>Laatst verwerkt</h4>")
    assert "00000000-0000-0000-0000-000000000007" in attention
    assert "geen leerling met LAS-key" in attention
    assert "Noor de Vries" in latest
    assert "verwerkt: toetsuitslag vastgelegd, heroverweging nodig" in latest
    assert page.headers["cache-control"] == "no-store"
    reads = reads_of(container.engine, str(delivered))
    assert [what for _, _, _, what in reads] == ["startpagina", "toetsuitslagen"]


def test_a_teacher_is_told_no_and_a_visitor_is_sent_to_log_in(
    container: Container, delivered: uuid.UUID
) -> None:
    with browse(container, "juf@school.nl") as juf:
        assert 'href="/toetsuitslagen"' not in juf.get("/").text
        refused = juf.get("/toetsuitslagen")
    assert refused.status_code == 403
    assert "Geen toegang" in refused.text
    assert "Noor" not in refused.text
    with browse(container, None) as visitor:
        answer = visitor.get("/toetsuitslagen")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")


def test_a_school_without_deliveries_says_so(container: Container, clock: Clock) -> None:
    container.register.add_school(SCHOOL)
    container.register.add_pupil(Pupil(str(uuid.uuid4()), SCHOOL.id, "Sem", "Bos", "8A"))
    container.accounts.add_user("ib@school.nl", "IB", Role.IB, [Scope(SCHOOL.id)], PASSWORD)
    with browse(container, "ib@school.nl") as ib:
        text = ib.get("/toetsuitslagen").text
    assert "Niets: elke levering is verwerkt." in text
    assert "Nog geen leveringen verwerkt." in text
