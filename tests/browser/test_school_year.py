"""A school year in the browser, end to end, against the real service (`serve` with its worker):

beheer adds a school and invites its teacher, IB and directie, who each set a password from the
link in their invitation e-mail; the IB uploads the pupils' CSV with one bad line, sees the line
and its reason, fixes it and commits; the teacher records the voorlopige adviezen for the whole
class in one grid; a test provider delivers a higher toets result through the chain (a real HTTP
POST with its bearer token) and the worker turns it into a heroverweging; the teacher sees the
pupil on the worklist, the notice e-mail (teacher and IB) and the start page, and is offered the
conversation but not yet the decision (the school requires the talk first); directie changes
the school's conversation setting; the teacher records the conversation and the decision; the
definitief advies shows on the pupil page and the class page, and the worklist is empty again.

Every page visited passes axe-core (WCAG 2.2 A/AA) with zero violations, has nothing refused
by the Content-Security-Policy, and does not scroll sideways at 360 px.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from service.imports.running import pupil_id_for
from tests.browser.chain import mandated_provider
from tests.browser.helpers import DESKTOP, accessibility_problems, fit_problems, log_in, today
from tests.browser.served import Served

pytestmark = pytest.mark.browser

BRIN, SCHOOL_NAME, CLASS = "31KS", "Basisschool De Kastanje", "8B"
EDU_TO, OIN = "0000000700031KS00530", "0000000700031KS00000"
BEHEER = ("beheer@kastanje.example", "Bea Beheer")
TEACHER = ("meester.tim@kastanje.example", "Meester Tim")
IB = ("ib.ilse@kastanje.example", "Ilse van der IB")
DIRECTIE = ("directie.dora@kastanje.example", "Dora Directeur")
PASSWORD = "een lange zin als wachtwoord"
INVITATION = r"/uitnodiging/[A-Za-z0-9_\-.~]+"
PUPILS_CSV = (
    "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
    f"5001;Emma;;Jansen;8;{CLASS}\n"
    f"5002;Liam;van;Dijk;8;{CLASS}\n"
    f"5003;Zoë;;Bakker;{{groep}};{CLASS}\n"
)


class Checks:
    """What every visited page must pass, collected over the whole scenario so that one run
    names every page with a problem: axe at desktop width, no sideways scrolling at 360 px."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def __call__(self, page: Page) -> None:
        problems = accessibility_problems(page) + fit_problems(page)
        page.set_viewport_size(DESKTOP)
        path = page.url.split("/", 3)[-1]
        self.found += [f"/{path}: {problem}" for problem in problems]


check = Checks()


def invitation_link(served: Served, address: str) -> str:
    """The path of the one-time link in the invitation e-mail to this address."""
    return served.mail_to(address, INVITATION)


def beheer_adds_the_school_and_invites(page: Page, served: Served) -> str:
    """The school's id, as the page lists it."""
    served.cli(
        "user", "add", BEHEER[0], "--name", BEHEER[1], "--role", "beheer", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    log_in(page, BEHEER[0], PASSWORD)
    check(page)
    page.goto("/beheer/scholen")
    check(page)
    page.get_by_label("BRIN-nummer").fill(BRIN)
    page.get_by_label("Naam van de school").fill(SCHOOL_NAME)
    page.get_by_label("Routeringskenmerk (edu-to)").fill(EDU_TO)
    page.get_by_label("OIN van de school (edu-from)").fill(OIN)
    page.get_by_role("button", name="School toevoegen").click()
    expect(page.get_by_role("cell", name=SCHOOL_NAME)).to_be_visible()
    check(page)

    page.goto("/beheer/accounts")
    check(page)
    for (address, name), role, classes in (
        (TEACHER, "leerkracht", CLASS),
        (IB, "intern begeleider", ""),
        (DIRECTIE, "directie", ""),
    ):
        page.get_by_label("Naam", exact=True).fill(name)
        page.get_by_label("E-mailadres").fill(address)
        page.get_by_label("Rol").select_option(label=role)
        page.get_by_label(re.compile(SCHOOL_NAME)).check()
        page.get_by_label("Klassen").fill(classes)
        page.get_by_role("button", name="Uitnodiging versturen").click()
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        check(page)
    return school_id_of(served)


def school_id_of(served: Served) -> str:
    for line in served.cli("school", "list").splitlines():
        if line.startswith(BRIN + " "):
            return line.split()[1]
    pytest.fail(f"school {BRIN} not in 'school list'")


def sets_password_from_the_invitation(page: Page, served: Served, address: str) -> None:
    page.goto(invitation_link(served, address))
    check(page)
    page.get_by_label("Nieuw wachtwoord").fill(PASSWORD)
    page.get_by_label("Herhaal het wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Wachtwoord opslaan en inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    check(page)


def ib_imports_the_class(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Importeren").click()
    page.wait_for_url("**/import")
    check(page)
    upload = page.get_by_label("CSV-bestand")

    def send(groep: str) -> None:
        data = PUPILS_CSV.format(groep=groep).encode()
        upload.set_input_files({"name": "leerlingen.csv", "mimeType": "text/csv", "buffer": data})
        page.get_by_role("button", name="Controleren (nog niets opslaan)").click()

    send("9")  # line 4: no groep 9 in primary school
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("1 van de 3 regels kloppen niet. Er is niets opgeslagen.")
    expect(alert).to_contain_text("regel 4 (groep): '9' is geen groep 7 of 8")
    bad_line = page.get_by_role("row", name=re.compile("^4 5003 Zoë Bakker"))
    expect(bad_line).to_contain_text("afgekeurd")
    expect(page.get_by_role("button", name="Opslaan")).to_have_count(0)
    check(page)

    page.get_by_role("link", name="Verbeterd bestand inlezen").click()
    upload = page.get_by_label("CSV-bestand")
    send("8")
    expect(page.get_by_text("Elke regel klopt")).to_be_visible()
    check(page)
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Alles is opgeslagen, in één keer.")).to_be_visible()
    check(page)


def teacher_gives_the_voorlopige_adviezen(page: Page, school_id: str) -> None:
    page.goto(f"/klassen/voorlopig?school={school_id}&klas={CLASS}")
    check(page)
    page.get_by_label("Gegeven op").fill(today())
    for pupil, advice in (
        ("Emma Jansen", "havo"),
        ("Liam van Dijk", "vwo"),
        ("Zoë Bakker", "vmbo-gt"),
    ):
        page.get_by_label(f"Voorlopig advies voor {pupil}").select_option(label=advice)
    page.get_by_role("button", name="Alles opslaan").click()
    expect(page.get_by_text("3 adviezen vastgelegd.")).to_be_visible()
    check(page)


def teacher_sees_the_pupil_on_the_worklist(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Heroverwegingen").click()
    page.wait_for_url("**/heroverwegingen")
    deadline = time.monotonic() + 15  # the worker processes the delivery within a moment
    while not page.get_by_role("link", name="Emma Jansen", exact=True).count():
        if time.monotonic() > deadline:
            pytest.fail("Emma Jansen did not appear on the worklist")
        time.sleep(0.3)
        page.reload()
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name="Emma Jansen", exact=True)
    )
    expect(row).to_contain_text("havo")
    expect(row).to_contain_text("vwo")
    expect(page.get_by_role("link", name="Liam van Dijk", exact=True)).to_have_count(0)
    check(page)


def teacher_finds_the_pupil_on_the_start_page(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Startpagina").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Emma Jansen", exact=True)).to_be_visible()
    check(page)


def teacher_is_offered_the_talk_before_the_decision(page: Page) -> None:
    page.get_by_role("link", name="Emma Jansen", exact=True).click()
    page.wait_for_url("**/leerlingen/**")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Gevoerd gesprek vastleggen")).to_be_visible()
    expect(main.get_by_role("link", name="Advies bijstellen")).to_have_count(0)
    expect(main.get_by_role("link", name="Advies handhaven")).to_have_count(0)
    check(page)
    page.get_by_role("navigation").get_by_role("link", name="Startpagina").click()
    page.wait_for_url(re.compile(r"/$"))


def the_worklist_is_empty_and_the_class_page_shows_the_advice(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Heroverwegingen").click()
    page.wait_for_url("**/heroverwegingen")
    expect(page.get_by_role("link", name="Emma Jansen", exact=True)).to_have_count(0)
    check(page)
    page.get_by_role("navigation").get_by_role("link", name="Klassen").click()
    page.wait_for_url("**/klassen**")
    emma = page.get_by_role("row").filter(
        has=page.get_by_role("link", name="Emma Jansen", exact=True)
    )
    expect(emma).to_contain_text("vwo")
    expect(page.get_by_role("link", name="Liam van Dijk", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Zoë Bakker", exact=True)).to_be_visible()
    check(page)


def directie_changes_the_conversation_setting(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Instellingen").click()
    page.wait_for_url("**/instellingen**")
    check(page)
    required = page.get_by_label(re.compile("Een gesprek met ouders en leerling is verplicht"))
    expect(required).to_be_checked()
    required.uncheck()
    page.get_by_role("button", name="Opslaan", exact=True).click()
    history = page.get_by_role("table", name=re.compile("Elke wijziging"))
    expect(history).to_contain_text("Gesprek bij heroverweging verplicht")
    expect(history).to_contain_text(DIRECTIE[1])
    expect(
        page.get_by_label(re.compile("Een gesprek met ouders en leerling is verplicht"))
    ).not_to_be_checked()
    check(page)


def teacher_records_conversation_decision_and_definitief_advies(page: Page) -> None:
    page.get_by_role("link", name="Emma Jansen", exact=True).click()
    page.wait_for_url("**/leerlingen/**")
    check(page)

    page.get_by_role("link", name="Gevoerd gesprek vastleggen").click()
    check(page)
    page.get_by_label("Gevoerd op").fill(today())
    page.get_by_label("Aantekeningen").fill("Ouders en Emma zien vwo zitten.")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/leerlingen/[0-9a-f-]+(\?.*)?$"))
    check(page)

    page.get_by_role("link", name="Advies bijstellen").click()
    check(page)
    page.get_by_label("Nieuw advies").select_option(label="vwo")
    page.get_by_label("Besloten op").fill(today())
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/leerlingen/[0-9a-f-]+(\?.*)?$"))
    check(page)

    final = page.get_by_role("link", name="Definitief advies vastleggen")
    if final.count():  # unless the decision gave it at once
        final.click()
        check(page)
        page.get_by_label("Gegeven op").fill(today())
        page.get_by_role("button", name="Opslaan").click()
        page.wait_for_url(re.compile(r"/leerlingen/[0-9a-f-]+(\?.*)?$"))
    facts = page.get_by_role("main")
    expect(facts).to_contain_text(re.compile(r"Definitief advies\s*vwo"))
    check(page)


def test_a_school_year_in_the_browser(
    served: Served, new_page: Callable[[], Page], tmp_path: Path
) -> None:
    check.found.clear()
    beheer = new_page()
    school_id = beheer_adds_the_school_and_invites(beheer, served)

    teacher, ib, directie = new_page(), new_page(), new_page()
    sets_password_from_the_invitation(teacher, served, TEACHER[0])
    sets_password_from_the_invitation(ib, served, IB[0])
    sets_password_from_the_invitation(directie, served, DIRECTIE[0])

    ib_imports_the_class(ib)
    teacher_gives_the_voorlopige_adviezen(teacher, school_id)

    provider = mandated_provider(served, BRIN, EDU_TO, OIN)
    emma = str(pupil_id_for(school_id, "5001"))
    assert provider.deliver(emma, "vwo") == 202

    teacher_sees_the_pupil_on_the_worklist(teacher)
    for address in (TEACHER[0], IB[0]):  # the heroverweging notice, with a link to the pupil
        served.mail_to(address, rf"/leerlingen/{emma}")
    teacher_finds_the_pupil_on_the_start_page(teacher)
    teacher_is_offered_the_talk_before_the_decision(teacher)
    directie_changes_the_conversation_setting(directie)
    teacher_records_conversation_decision_and_definitief_advies(teacher)
    the_worklist_is_empty_and_the_class_page_shows_the_advice(teacher)
    assert not check.found, f"{len(check.found)} problem(s):\n" + "\n".join(check.found)
