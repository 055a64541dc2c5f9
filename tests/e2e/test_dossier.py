"""The pupil dossier through the real app: a pupil's whole path (voorlopig advies, the result
delivered by the provider, heroverweging, the talk planned, the parents invited and answering,
the talk held, the advice raised with its motivation, definitief) on one page and in one PDF —
every fact in order with names and roles, who was informed when, the delivery, the integrity
line — only for the pupil's own school and classes, each read in the access log, and a tampered
event shows as broken on the page and in the PDF."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.audit.access_log import reads_of
from service.audit.integrity import check_now
from service.bootstrap import Container
from service.intake.processing import process_pending
from service.intake.standard import example
from service.scheduling import availability, views
from service.scheduling.loop import TalkRounds
from service.schools.register import Pupil
from service.shared.context import Actor, CommandContext
from service.store.schema import events, parents
from tests.conftest import Clock
from tests.e2e.intake import SCHOOL, URL, provider_client
from tests.e2e.web import PASSWORD, browse
from workflows.availability import PublishedWindow
from workflows.commands import EnrolPupil, GiveFinalAdvice, GiveProvisionalAdvice, RaiseAdvice
from workflows.conversations import TalkStatus
from workflows.enums import ConversationParty
from workflows.scale import SchoolAdvice

AMS = ZoneInfo("Europe/Amsterdam")
MOTIVATION = "Noor werkt zelfstandig en haalt al twee jaar vwo-niveau bij rekenen en taal."
VIEW = "Wij zien Noor graag naar het vwo gaan, zij is er zelf ook aan toe."
HELD_NOTES = "Besproken met ouders en Noor: de toets bevestigt het beeld van de juf."
NAMES = {
    "juf": ("juf@school.nl", "Juf Anna", Role.LEERKRACHT, "8A"),
    "meester": ("meester@school.nl", "Meester Bas", Role.LEERKRACHT, "8B"),
    "ib": ("ib@school.nl", "Ilse IB", Role.IB, ""),
    "directie": ("directie@school.nl", "Dirk Directeur", Role.DIRECTIE, ""),
    "bestuur": ("bestuur@bestuur.nl", "Bea Bestuur", Role.BESTUUR, ""),
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


@dataclass
class Path8A:
    container: Container
    clock: Clock
    pupil: str
    talk_id: str
    users: dict[str, str]

    def client(self, who: str) -> TestClient:
        return browse(self.container, NAMES[who][0])


def delivery(pupil: str, toetsadvies: str) -> dict[str, Any]:
    """The standard's example Leerlingresultaat for our pupil with this toetsadvies."""
    message = example("/leerlingresultaat", "Leerlingresultaat")
    scores = message["resultatenscores"]
    scores["id"] = "iep-2026-0042"
    scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": pupil}]
    for result in scores["resultaten"]["resultaten"]:
        if result["label"] == "Toetsadvies":
            result["waarde"] = toetsadvies
    return message


def work_outbox(container: Container) -> None:
    worker = container.outbox_worker()
    while worker.run_once():
        pass


def noor_with_a_higher_result(
    container: Container, clock: Clock, *, juf_publishes: bool
) -> tuple[str, str, dict[str, str]]:
    """Noor de Vries of 8A with her mother: havo in January, IEP's vwo delivered on 10 March
    (so a heroverweging and its talk); the juf's hours on 17 March published or not. Returns
    the pupil id, the mother's parent id and the user ids by short name."""
    with provider_client(container, clock) as provider:  # adds the school; 10 March
        users = {}
        for short, (email, name, role, klas) in NAMES.items():
            account = container.accounts.add_user(
                email, name, role, [Scope(SCHOOL.id, klas)], PASSWORD
            )
            users[short] = account.user_id
        pupil = str(uuid.uuid4())
        container.register.add_pupil(Pupil(pupil, SCHOOL.id, "Noor", "de Vries", "8A"))
        mother = str(uuid.uuid4())
        with container.engine.begin() as conn:
            conn.execute(
                parents.insert().values(
                    id=mother, pupil_id=pupil, name="Petra de Vries", email="petra@thuis.nl"
                )
            )
        key = uuid.UUID(pupil)
        clock.now = at(1, 15, 11)
        container.trajectories.execute(
            key,
            EnrolPupil(
                school_id=SCHOOL.id, school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
            ),
            CommandContext(actor=Actor("import", "beheer")),
        )
        container.trajectories.execute(
            key,
            GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)),
            CommandContext(actor=Actor(users["juf"], "leerkracht")),
        )
        if juf_publishes:
            availability.publish(
                container.store,
                clock,
                SCHOOL.id,
                users["juf"],
                "reconsideration",
                [PublishedWindow(at(3, 17, 14), at(3, 17, 17), "lokaal 8A")],
                actor=users["juf"],
                actor_name="Juf Anna",
                role="leerkracht",
            )
        clock.now = at(3, 10, 10, 30)  # within the provider's token's hour
        assert provider.post(URL, json=delivery(pupil, "vwo")).status_code == 202
        assert process_pending(container) == 1
    work_outbox(container)  # the notices to the juf and IB, the talk requested (and planned)
    return pupil, mother, users


@pytest.fixture
def full_path(container: Container, clock: Clock) -> Path8A:
    """Noor's whole path: the heroverweging talk planned by the planner in the juf's hours, the
    mother invited, accepting and giving her view, the talk held, the advice raised fully to vwo
    with the juf's motivation, definitief."""
    pupil, mother, users = noor_with_a_higher_result(container, clock, juf_publishes=True)
    key, juf = uuid.UUID(pupil), Actor(users["juf"], "leerkracht")
    [talk] = views.for_pupil(container.engine, pupil)
    talks, parent = container.talks, Actor(mother, "ouder")
    clock.now = at(3, 12, 19)
    talks.parents_accept(talk.talk_id, mother, parent)
    talks.parents_view(talk.talk_id, mother, VIEW, parent)
    clock.now = at(3, 17, 16)
    everyone = [ConversationParty.PARENTS, ConversationParty.PUPIL, ConversationParty.TEACHER]
    talks.hold(talk.talk_id, date(2026, 3, 17), everyone, HELD_NOTES, juf)
    clock.now = at(3, 18, 10)
    container.trajectories.execute(
        key,
        RaiseAdvice(advice=SchoolAdvice.VWO, decided_on=date(2026, 3, 18), motivation=MOTIVATION),
        CommandContext(actor=juf),
    )
    container.trajectories.execute(
        key, GiveFinalAdvice(given_on=date(2026, 3, 18)), CommandContext(actor=juf)
    )
    work_outbox(container)
    clock.now = at(3, 19, 9)
    return Path8A(container, clock, pupil, talk.talk_id, users)


def between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    file = tmp_path / "dossier.pdf"
    file.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(file), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout


def test_the_dossier_lists_every_fact_in_order_with_names_roles_and_the_motivation(
    full_path: Path8A,
) -> None:
    with full_path.client("directie") as director:
        page = director.get(f"/leerlingen/{full_path.pupil}/dossier")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Dossier van Noor de Vries" in html
    facts = between(html, 'id="d-feiten"', "</section>")
    order = [
        "Ingeschreven in groep 8",
        "Voorlopig schooladvies: havo",
        "Toetsuitslag ontvangen (ICE): toetsadvies vwo",
        "Heroverweging nodig",
        "Heroverwegingsgesprek aangevraagd",
        "Gesprek door de planner voorgesteld op 17-03-2026 14:00 in lokaal 8A",
        "Uitnodiging per e-mail verstuurd aan Petra de Vries",
        "Petra de Vries bevestigt het voorgestelde moment",
        "Zienswijze van Petra de Vries",
        "Gesprek gevoerd",
        "Heroverwegingsgesprek gevoerd",
        "Advies volledig bijgesteld naar vwo",
        "Definitief schooladvies: vwo",
    ]
    found = [facts.find(what) for what in order]
    assert -1 not in found, dict(zip(order, found, strict=True))
    assert found == sorted(found)
    positions = [int(p) for p in re.findall(r'd-facts__pos">#(\d+)<', facts)]
    assert positions == sorted(positions)
    assert "door Juf Anna (leerkracht)" in facts
    assert "door Petra de Vries (ouder/verzorger)" in facts
    assert MOTIVATION in facts
    assert VIEW in facts
    assert HELD_NOTES in facts
    assert "vastgelegd 10-03-2026 10:30" in facts  # Europe/Amsterdam, not UTC
    for user_id in full_path.users.values():
        assert user_id not in html


def test_voorlopig_and_definitief_stand_side_by_side_with_basis_and_timeliness(
    full_path: Path8A,
) -> None:
    with full_path.client("ib") as ib:
        html = ib.get(f"/leerlingen/{full_path.pupil}/dossier").text
    advice = between(html, 'id="d-advies"', "</section>")
    provisional = between(advice, "Voorlopig schooladvies</h3>", "</div>\n")
    final = between(advice, "Definitief schooladvies</h3>", "</div>\n")
    assert "havo" in provisional
    assert "15-01-2026" in provisional
    assert "op tijd" in provisional
    assert "vwo" in final
    assert "18-03-2026" in final
    assert "Juf Anna (leerkracht)" in final
    assert "Grond</dt>" in final


def test_the_talk_the_delivery_and_who_was_informed_when_are_shown(full_path: Path8A) -> None:
    with full_path.client("juf") as juf:
        html = juf.get(f"/leerlingen/{full_path.pupil}/dossier").text
    talks = between(html, 'id="d-gesprekken"', "</section>")
    assert "Heroverwegingsgesprek: gevoerd" in talks
    assert "17-03-2026 14:" in talks
    assert "lokaal 8A" in talks
    assert "Juf Anna" in talks
    assert "Petra de Vries" in talks
    delivered = between(html, 'id="d-toets"', "</section>")
    assert "ICE" in delivered
    assert "iep-2026-0042" in delivered
    assert "ontvangst nr. 1" in delivered
    informed = between(html, 'id="d-geinformeerd"', "</section>")
    assert "Juf Anna (leerkracht)" in informed
    assert "Ilse IB (intern begeleider)" in informed
    assert "Petra de Vries (ouder/verzorger)" in informed
    assert "uitnodiging voor het gesprek" in informed
    assert "verzonden" in informed


def test_another_classes_teacher_gets_404_the_board_403_and_no_link_and_every_read_is_logged(
    full_path: Path8A,
) -> None:
    pupil = full_path.pupil
    with full_path.client("meester") as other:
        assert other.get(f"/leerlingen/{pupil}/dossier").status_code == 404
        assert other.get(f"/leerlingen/{pupil}/dossier.pdf").status_code == 404
    with full_path.client("bestuur") as board:
        assert f'href="/leerlingen/{pupil}/dossier"' not in board.get(f"/leerlingen/{pupil}").text
        refused = board.get(f"/leerlingen/{pupil}/dossier")
        assert refused.status_code == 403
        assert "Noor" not in refused.text
        assert board.get(f"/leerlingen/{pupil}/dossier.pdf").status_code == 403
    anonymous = TestClient(create_app(full_path.container), follow_redirects=False)
    assert anonymous.get(f"/leerlingen/{pupil}/dossier").status_code == 303
    reads = reads_of(full_path.container.engine, pupil)
    assert [r[3] for r in reads] == ["leerlingpagina"]  # the board's look at the pupil page
    with full_path.client("directie") as director:
        assert director.get(f"/leerlingen/{pupil}/dossier").status_code == 200
        assert director.get(f"/leerlingen/{pupil}/dossier.pdf").status_code == 200
    reads = reads_of(full_path.container.engine, pupil)[1:]
    assert [(r[1], r[2], r[3]) for r in reads] == [
        (full_path.users["directie"], "directie", "dossier"),
        (full_path.users["directie"], "directie", "dossier-pdf"),
    ]
    with full_path.client("juf") as juf:
        assert f'href="/leerlingen/{pupil}/dossier"' in juf.get(f"/leerlingen/{pupil}").text


def test_the_pdf_holds_the_integrity_line_the_facts_and_the_figures(
    full_path: Path8A, tmp_path: Path
) -> None:
    check_now(full_path.container)
    with full_path.client("directie") as director:
        answer = director.get(f"/leerlingen/{full_path.pupil}/dossier.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.content.startswith(b"%PDF-")
    printed = pdf_text(answer.content, tmp_path)
    with full_path.container.engine.connect() as conn:
        head = conn.execute(select(events.c.position).order_by(events.c.position.desc())).first()
    assert head is not None
    assert f"Hash-keten geverifieerd tot en met positie {head.position}" in printed
    assert "feiten van deze leerling nagerekend: in orde" in printed
    assert printed.count("Hash-keten geverifieerd") >= 2  # on every page's footer
    assert "Pagina 1 van" in printed
    flat = " ".join(printed.split())
    for words in (
        "Dossier van Noor de Vries",
        "De Eerste School",
        "Voorlopig schooladvies: havo",
        "Advies volledig bijgesteld naar vwo",
        "Definitief schooladvies: vwo",
        "iep-2026-0042",
        "Juf Anna (leerkracht)",
        "Petra de Vries",
    ):
        assert words in flat, words
    assert " ".join(MOTIVATION.split()[:6]) in flat


def test_a_tampered_event_shows_the_chain_broken_on_the_page_and_in_the_pdf(
    full_path: Path8A, tmp_path: Path
) -> None:
    container = full_path.container
    engine = container.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))
        row = conn.execute(
            select(events.c.position, events.c.data).where(
                events.c.stream_id == f"trajectory-{full_path.pupil}",
                events.c.event_type == "provisional_advice_given",
            )
        ).one()
        data = dict(row.data)
        data["advice"] = "VWO"
        conn.execute(
            text("UPDATE events SET data = :d WHERE position = :p"),
            {"d": json.dumps(data), "p": row.position},
        )
    check_now(container)
    with full_path.client("directie") as director:
        html = director.get(f"/leerlingen/{full_path.pupil}/dossier").text
        pdf = director.get(f"/leerlingen/{full_path.pupil}/dossier.pdf").content
    assert f"De keten is verbroken bij positie {row.position}" in html
    assert html.count("app-integrity--broken") == 1  # the dossier's own, not base.html's too
    assert html.count(f"De keten is verbroken bij positie {row.position}") == 1
    assert "De feiten van deze leerling kloppen niet meer" in html
    assert f"klopt de hash niet van het feit op positie {row.position}" in html
    assert "hash klopt niet" in between(html, 'id="d-feiten"', "</section>")
    printed = " ".join(pdf_text(pdf, tmp_path).split())
    assert f"HASH-KETEN VERBROKEN bij positie {row.position}" in printed
    assert "feiten van deze leerling nagerekend: VERBROKEN" in printed
    assert "Hash-keten geverifieerd" not in printed


def test_directie_warned_about_a_talk_nobody_could_plan_is_in_the_dossier_by_name(
    container: Container, clock: Clock
) -> None:
    pupil, _, users = noor_with_a_higher_result(container, clock, juf_publishes=False)
    [talk] = views.for_pupil(container.engine, pupil)
    assert talk.status is TalkStatus.REQUESTED
    rounds = TalkRounds(container.talks)
    clock.now = at(3, 11, 12)  # a working day after the request: no proposal yet
    rounds()
    work_outbox(container)
    path = Path8A(container, clock, pupil, talk.talk_id, users)
    with path.client("directie") as director:
        html = director.get(f"/leerlingen/{pupil}/dossier").text
    talks = between(html, 'id="d-gesprekken"', "</section>")
    assert "Heroverwegingsgesprek: nog in te plannen" in talks
    assert "nog geen tijd" in talks
    assert "Directie gewaarschuwd" in talks
    informed = between(html, 'id="d-geinformeerd"', "</section>")
    assert "Dirk Directeur (directie)" in informed
    assert "gesprek in gevaar (waarschuwing)" in informed
    definitief = between(html, "Definitief schooladvies</h3>", "</div>")
    assert "nog niet gegeven" in definitief


def test_a_pupil_with_nothing_recorded_yet_has_an_empty_dossier_that_says_so(
    container: Container, clock: Clock
) -> None:
    _, _, users = noor_with_a_higher_result(container, clock, juf_publishes=False)
    sem = str(uuid.uuid4())
    container.register.add_pupil(Pupil(sem, SCHOOL.id, "Sem", "Jansen", "8A"))
    path = Path8A(container, clock, sem, "", users)
    with path.client("juf") as juf:
        page = juf.get(f"/leerlingen/{sem}/dossier")
    assert page.status_code == 200
    assert "Dossier van Sem Jansen" in page.text
    assert "Nog niets vastgelegd." in page.text
    assert "Van deze leerling is nog niets vastgelegd" in page.text
    assert "Er is (nog) geen toetsuitslag ontvangen." in page.text
    assert "nog niet gegeven" in page.text
