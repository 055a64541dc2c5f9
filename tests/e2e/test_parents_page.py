"""The parents' page, opened with the link from their e-mail, through the ASGI app: it shows this
talk only (the child's first name, when, where, who attends) and records what the parent does —
coming, declining, asking another time, their zienswijze — on the talk, read back through the
talk. Another talk's link acts on that talk only; an unknown link is a 404, a replaced or
expired one, or one of a held or cancelled talk, a 410; bad input is a 422 beside the field with
nothing stored. On SQLite and on PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.bootstrap import Container
from service.store.schema import parent_tokens, parents
from service.web.parents import HideParentTokens
from tests.conftest import Clock
from tests.e2e.test_invitations import (
    FATHER,
    FIRST,
    LATER,
    MOTHER,
    TEACHER,
    pupil_with_parents,
    with_teacher,
)
from tests.e2e.test_notices import drain, heroverweging
from workflows.conversations import (
    ParentsAskedOtherTime,
    ParentsDeclined,
    ParentsViewGiven,
    TalkKind,
    TalkStatus,
)
from workflows.enums import ConversationParty

_LINK = re.compile(r"/ouders/([A-Za-z0-9_-]+)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Family:
    talk_id: str
    pupil: str
    tokens: dict[str, str]  # parent's address -> the token of the newest e-mail to them


def links(container: Container) -> dict[str, str]:
    """The token of the newest e-mail each parent received (the .eml files of the outbox)."""
    found: dict[str, tuple[float, str]] = {}
    for path in Path(container.settings.mail_dir).glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        if body is None:
            continue
        match = _LINK.search(body.get_content().replace("=\n", ""))
        if match:
            when = path.stat().st_mtime_ns
            to = str(message["To"])
            if to not in found or found[to][0] <= when:
                found[to] = (when, match.group(1))
    return {to: token for to, (_, token) in found.items()}


def invited(
    container: Container, clock: Clock, given_name: str, family: list[tuple[str | None, str]]
) -> Family:
    pupil = pupil_with_parents(container, given_name, family)
    heroverweging(container, clock, uuid.UUID(pupil))
    talk_id = container.talks.request(pupil, TalkKind.RECONSIDERATION, TEACHER)
    when = FIRST if given_name == "Noor" else FIRST + timedelta(hours=1)
    container.talks.plan(talk_id, when, "Lokaal 8A", TEACHER)
    drain(container.outbox_worker())
    addresses = {a for a, _ in family if a}
    return Family(talk_id, pupil, {a: t for a, t in links(container).items() if a in addresses})


@pytest.fixture
def school(container: Container) -> Container:
    return with_teacher(container)


@pytest.fixture
def noor(school: Container, clock: Clock) -> Family:
    return invited(school, clock, "Noor", [MOTHER, FATHER])


@pytest.fixture
def client(school: Container) -> Iterator[TestClient]:
    with TestClient(create_app(school), follow_redirects=False) as test_client:
        yield test_client


def open_page(client: TestClient, token: str) -> str:
    response = client.get(f"/ouders/{token}")
    assert response.status_code == 200, response.text
    return response.text


def post(
    client: TestClient, token: str, action: str, data: dict[str, object] | None = None
) -> tuple[int, str]:
    page = open_page(client, token)
    csrf = _CSRF.search(page)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1), **(data or {})}
    response = client.post(f"/ouders/{token}/{action}", data=form)
    if response.status_code == 303:  # accepted: the page saying so is a GET (reloading is safe)
        assert response.headers["location"] == f"/ouders/{token}?gedaan={action}"
        response = client.get(response.headers["location"])
    return response.status_code, response.text


def test_the_link_from_the_e_mail_shows_this_talk_and_nothing_of_another_pupil(
    school: Container,
    clock: Clock,
    noor: Family,
    client: TestClient,
) -> None:
    invited(school, clock, "Daan", [("ander@example.nl", "Ria Ander")])
    page = open_page(client, noor.tokens[MOTHER[0]])

    assert "Gesprek over het schooladvies van Noor" in page
    assert "dinsdag 17 maart 2026, 14:30–15:00" in page
    assert "Lokaal 8A" in page
    assert re.search(
        r"Anna de Wit \(leerkracht\), (Fatima el Amrani, Jeroen Bakker|Jeroen Bakker, Fatima el "
        r"Amrani), Noor</dd>",
        page,
    )
    assert "De school stelt dit moment voor" in page
    assert "waarop u tot en met dinsdag 24 maart 2026 niet kunt" in page  # not "de deadline"
    assert "De Vuurtoren" in page
    for other in ("Daan", "Ria Ander", "Jansen", "ander@example.nl", "havo", "vwo"):
        assert other not in page
    response = client.get(f"/ouders/{noor.tokens[MOTHER[0]]}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_parent_who_comes_is_recorded_on_the_talk(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    status, page = post(client, noor.tokens[FATHER[0]], "komen")

    assert status == 200
    assert "De school weet dat u komt" in page
    assert "U heeft laten weten dat u komt." in page
    talk = school.talks.load(noor.talk_id)
    assert talk.status is TalkStatus.ACCEPTED
    father = [p for p in talk.requested.parents if p not in _mother_ids(school)]
    assert talk.accepted_by == frozenset(father)

    # in a joint talk the other parent still says for themselves that they come
    mother_page = open_page(client, noor.tokens[MOTHER[0]])
    assert "Het gesprek is bevestigd." in mother_page
    assert "Ik kom op dit moment" in mother_page
    status, _ = post(client, noor.tokens[MOTHER[0]], "komen")
    assert status == 200
    assert school.talks.load(noor.talk_id).accepted_by == frozenset(talk.requested.parents)


def _mother_ids(container: Container) -> set[str]:
    with container.engine.connect() as conn:
        return set(conn.execute(select(parents.c.id).where(parents.c.email == MOTHER[0])).scalars())


def test_declining_is_recorded_with_the_message_and_settles_the_heroverweging_talk(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    status, page = post(
        client, noor.tokens[MOTHER[0]], "afzien", {"bericht": "Wij zijn het eens met de school."}
    )

    assert status == 200
    assert "De school weet dat u afziet van het gesprek" in page
    talk = school.talks.load(noor.talk_id)
    assert talk.status is TalkStatus.DECLINED
    declined = [e for e in school.talks.history(noor.talk_id) if isinstance(e, ParentsDeclined)]
    assert [str(e.message) for e in declined] == ["Wij zijn het eens met de school."]
    assert declined[0].parent_id in _mother_ids(school)
    trajectory = school.trajectories.load(uuid.UUID(noor.pupil))
    assert trajectory.conversation.value == "declined"


def test_asking_another_time_records_the_parts_of_the_week_they_cannot(
    school: Container,
    clock: Clock,
    noor: Family,
    client: TestClient,
) -> None:
    status, page = post(
        client,
        noor.tokens[MOTHER[0]],
        "ander-moment",
        {"niet": ["dinsdag-middag", "woensdag-ochtend"], "bericht": "Liever op donderdag."},
    )

    assert status == 200, page
    assert "zoekt een ander moment" in page
    talk = school.talks.load(noor.talk_id)
    assert talk.status is TalkStatus.OTHER_TIME_ASKED
    asked = [e for e in school.talks.history(noor.talk_id) if isinstance(e, ParentsAskedOtherTime)]
    assert str(asked[0].message) == "Liever op donderdag."
    days = {(p.start.strftime("%A"), p.start.hour, p.end.hour) for p in talk.unavailable}
    assert days == {("Tuesday", 12, 17), ("Wednesday", 8, 12)}
    today = clock().date()
    assert all(today < p.start.date() <= date(2026, 3, 24) for p in talk.unavailable)
    assert any(p.start <= FIRST < p.end for p in talk.unavailable)  # the proposed time


def test_asking_another_time_records_the_parts_of_the_week_they_prefer_too(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    status, page = post(
        client,
        noor.tokens[MOTHER[0]],
        "ander-moment",
        {"niet": ["dinsdag-middag"], "liefst": ["donderdag-middag", "vrijdag-ochtend"]},
    )

    assert status == 200, page
    talk = school.talks.load(noor.talk_id)
    days = {(p.start.strftime("%A"), p.start.hour, p.end.hour) for p in talk.preferred}
    assert days == {("Thursday", 12, 17), ("Friday", 8, 12)}


def test_a_part_of_the_week_they_cannot_is_not_also_preferred(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    before = school.store.stream_version(f"conversation-{noor.talk_id}")
    status, page = post(
        client,
        noor.tokens[MOTHER[0]],
        "ander-moment",
        {"niet": ["dinsdag-middag"], "liefst": ["dinsdag-middag"]},
    )

    assert status == 422
    assert 'id="veld-liefst-fout"' in page
    assert "U kunt niet op dinsdagmiddag" in page
    assert school.store.stream_version(f"conversation-{noor.talk_id}") == before


def test_the_zienswijze_is_stored_sealed_and_read_back_through_the_talk(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    text = "Noor werkt hard en wil naar het vwo; wij zien graag dat het advies omhoog gaat."
    status, page = post(client, noor.tokens[MOTHER[0]], "zienswijze", {"zienswijze": text})

    assert status == 200
    assert "Uw zienswijze is opgeslagen" in page
    views = [e for e in school.talks.history(noor.talk_id) if isinstance(e, ParentsViewGiven)]
    assert [str(v.text) for v in views] == [text]
    stored = school.store.read_stream(f"conversation-{noor.talk_id}")
    raw = next(e for e in stored if e.event_type == "talk_parents_view_given")
    assert "vwo" not in str(raw.data)  # sealed with the pupil's key


def test_bad_input_is_refused_beside_the_field_and_nothing_is_stored(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    token = noor.tokens[MOTHER[0]]
    status, page = post(client, token, "zienswijze", {"zienswijze": "   "})
    assert status == 422
    assert 'id="veld-zienswijze-fout"' in page
    assert "Schrijf uw zienswijze" in page
    assert 'aria-invalid="true"' in page

    status, page = post(client, token, "zienswijze", {"zienswijze": "x" * 4001})
    assert status == 422
    assert "ten hoogste 4000 tekens" in page
    assert "x" * 4001 in page  # what they wrote is kept in the form

    status, page = post(client, token, "ander-moment", {})
    assert status == 422
    assert 'id="veld-niet-fout"' in page
    assert "Kies de dagdelen" in page

    status, page = post(client, token, "ander-moment", {"niet": ["zondag-nacht"]})
    assert status == 422

    response = client.post(f"/ouders/{token}/komen", data={"csrf_token": "vervalst"})
    assert response.status_code == 400
    assert "Het formulier was verlopen" in response.text

    talk = school.talks.load(noor.talk_id)
    assert talk.status is TalkStatus.PROPOSED
    assert talk.views == 0
    assert talk.accepted_by == frozenset()


def test_another_talks_link_acts_on_that_talk_only(
    school: Container,
    clock: Clock,
    noor: Family,
    client: TestClient,
) -> None:
    daan = invited(school, clock, "Daan", [("ander@example.nl", "Ria Ander")])
    status, page = post(client, daan.tokens["ander@example.nl"], "komen")

    assert status == 200
    assert "Daan" in page
    assert "Noor" not in page
    assert school.talks.load(daan.talk_id).status is TalkStatus.ACCEPTED
    assert school.talks.load(noor.talk_id).status is TalkStatus.PROPOSED
    # the address names the talk through its token only: no other talk can be smuggled in
    response = client.post(
        f"/ouders/{daan.tokens['ander@example.nl']}/komen",
        data={"csrf_token": "x", "talk_id": noor.talk_id},
    )
    assert response.status_code == 400
    assert school.talks.load(noor.talk_id).status is TalkStatus.PROPOSED


def test_an_unknown_link_is_404_and_a_replaced_or_expired_one_410(
    school: Container,
    clock: Clock,
    noor: Family,
    client: TestClient,
) -> None:
    unknown = client.get("/ouders/" + "A" * 43)
    assert unknown.status_code == 404
    assert "Deze link kennen wij niet" in unknown.text

    old = noor.tokens[MOTHER[0]]
    school.talks.move(noor.talk_id, LATER, "Lokaal 8A", "juf is ziek", TEACHER)
    drain(school.outbox_worker())
    replaced = client.get(f"/ouders/{old}")
    assert replaced.status_code == 410
    assert "Er is een nieuwere e-mail" in replaced.text
    new = links(school)[MOTHER[0]]
    assert new != old
    assert "woensdag 18 maart 2026, 09:00–09:30" in open_page(client, new)

    clock.now = datetime(2026, 3, 24, 22, 59, tzinfo=clock.now.tzinfo)  # 23:59 Dutch time
    assert client.get(f"/ouders/{new}").status_code == 200  # the deadline's day still counts
    clock.now = datetime(2026, 3, 24, 23, 0, tzinfo=clock.now.tzinfo)  # midnight in NL
    expired = client.get(f"/ouders/{new}")
    assert expired.status_code == 410
    assert "Deze link is verlopen" in expired.text
    assert post_refused(client, new) == 410


def post_refused(client: TestClient, token: str) -> int:
    return client.post(f"/ouders/{token}/komen", data={"csrf_token": "x"}).status_code


def test_the_link_of_a_held_or_cancelled_talk_is_410(
    school: Container,
    clock: Clock,
    noor: Family,
    client: TestClient,
) -> None:
    daan = invited(school, clock, "Daan", [("ander@example.nl", "Ria Ander")])
    school.talks.cancel(daan.talk_id, "dubbel gepland", TEACHER)
    cancelled = client.get(f"/ouders/{daan.tokens['ander@example.nl']}")
    assert cancelled.status_code == 410
    assert "Het gesprek gaat niet door" in cancelled.text

    clock.now = FIRST + timedelta(hours=2)
    school.talks.hold(
        noor.talk_id,
        FIRST.date(),
        [ConversationParty.PARENTS, ConversationParty.PUPIL],
        None,
        TEACHER,
    )
    held = client.get(f"/ouders/{noor.tokens[MOTHER[0]]}")
    assert held.status_code == 410
    assert "Het gesprek is gevoerd" in held.text
    assert post_refused(client, noor.tokens[FATHER[0]]) == 410


def test_the_token_is_kept_out_of_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1", "GET", "/ouders/geheim-token-123", "1.1", 200),
        None,
    )
    HideParentTokens().filter(record)
    assert "geheim" not in record.getMessage()
    assert "/ouders/…" in record.getMessage()


def test_the_database_keeps_only_the_sha256_of_each_link(school: Container, noor: Family) -> None:
    with school.engine.connect() as conn:
        rows = conn.execute(select(parent_tokens)).all()
    stored = {r.token_hash for r in rows}
    assert len(rows) == 2  # one per parent
    for token in noor.tokens.values():
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        assert not any(token in str(tuple(r)) for r in rows)
    assert {r.talk_id for r in rows} == {noor.talk_id}


def test_an_accepted_answer_redirects_so_reloading_the_page_sends_nothing_again(
    school: Container,
    noor: Family,
    client: TestClient,
) -> None:
    token = noor.tokens[MOTHER[0]]
    csrf = _CSRF.search(open_page(client, token))
    assert csrf is not None
    data = {"csrf_token": csrf.group(1), "zienswijze": "Wij zien havo/vwo als haalbaar."}
    answer = client.post(f"/ouders/{token}/zienswijze", data=data)
    assert answer.status_code == 303
    before = len(school.talks.history(noor.talk_id))
    for _ in range(2):  # the browser's reload of the page it was sent to
        page = client.get(answer.headers["location"])
        assert page.status_code == 200
        assert "Uw zienswijze is opgeslagen" in page.text
    assert len(school.talks.history(noor.talk_id)) == before
    unknown = client.get(f"/ouders/{token}?gedaan=iets-anders")
    assert unknown.status_code == 200
    assert "Dank u wel" not in unknown.text
