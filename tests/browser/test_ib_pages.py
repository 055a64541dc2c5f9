"""The intern begeleider's own pages, in chromium, on the demo school: the year rollover of a
groep 7 class (preview, then one action for the whole class) and a CSV of toets results that
then shows on the Toetsuitslagen page. Every page visited passes axe-core (WCAG 2.2 A/AA) and
does not scroll sideways at 360 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_SCHOOL, demo_pupil_id
from tests.browser.helpers import DESKTOP, assert_accessible, assert_fits, log_in, today
from tests.browser.served import Served

pytestmark = pytest.mark.browser

IB = "ib.browser@demo.adviestraject.nl"
PASSWORD = "een lange zin als wachtwoord"
LAST_YEAR = "2025-2026"  # groep 7 then; the rollover puts them in groep 8 of this year


def check(page: Page) -> None:
    assert_accessible(page)
    assert_fits(page)
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def ib(served: Served, page: Page) -> Page:
    """The demo school's IB, logged in; the account is added by the first test that needs it."""
    if IB not in served.cli("user", "list"):
        served.cli(
            "user", "add", IB, "--name", "Iris IB", "--role", "ib", "--school",
            DEMO_SCHOOL.brin, "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
    log_in(page, IB, PASSWORD)
    return page


def test_the_ib_moves_a_groep_7_class_to_groep_8_in_one_action(served: Served, ib: Page) -> None:
    groep7 = served.directory / "groep7.csv"
    groep7.write_text(
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
        "7001;Mila;;Hendriks;7;7C\n7002;Sem;van;Leeuwen;7;7C\n7003;Julia;;Vos;7;7C\n",
        encoding="utf-8",
    )
    served.cli(
        "import", "pupils", str(groep7), "--school", DEMO_SCHOOL.brin, "--school-year", LAST_YEAR,
        "--as", IB,
    )  # fmt: skip
    ib.get_by_role("navigation").get_by_role("link", name="Jaarovergang").click()
    ib.wait_for_url("**/jaarovergang**")
    check(ib)
    ib.get_by_role("link", name=re.compile(rf"Klas 7C \({LAST_YEAR}, 3 leerlingen\)")).click()
    expect(ib.get_by_role("heading", name="Voorbeeld: klas 7C naar groep 8")).to_be_visible()
    expect(ib.get_by_role("table")).to_contain_text("Sem van Leeuwen")
    check(ib)
    ib.get_by_label("Nieuwe klas in groep 8").fill("8C")
    ib.get_by_label("Naar groep 8 op").fill(today())
    ib.get_by_role("button", name="Overzetten: 3 leerlingen naar groep 8").click()
    expect(ib.get_by_role("heading", name="Jaarovergang gedaan")).to_be_visible()
    expect(ib.get_by_role("main")).to_contain_text(
        "3 leerlingen van klas 7C zitten nu in groep 8, klas 8C"
    )
    check(ib)
    ib.get_by_role("link", name="Naar klas 8C").click()
    for name in ("Mila Hendriks", "Sem van Leeuwen", "Julia Vos"):
        expect(ib.get_by_role("link", name=name, exact=True)).to_be_visible()
    check(ib)


def test_the_ib_imports_toets_results_and_sees_them_on_the_toetsuitslagen_page(ib: Page) -> None:
    daan = demo_pupil_id("Daan", "Jansen")  # voorlopig vmbo-gt/havo in the demo school
    ib.get_by_role("navigation").get_by_role("link", name="Importeren").click()
    ib.get_by_label("Toetsuitslagen").check()
    ib.get_by_label("Naam van de toets (alleen bij uitslagen)").fill("ROUTE 8")
    ib.get_by_label("CSV-bestand").set_input_files(
        {
            "name": "uitslagen-route8.csv",
            "mimeType": "text/csv",
            "buffer": f"Leerling;Toetsadvies\n{daan};havo/vwo\n".encode(),
        }
    )
    ib.get_by_role("button", name="Controleren (nog niets opslaan)").click()
    expect(ib.get_by_role("row", name=re.compile("Daan Jansen"))).to_contain_text(
        "heroverweging nodig"
    )
    check(ib)
    ib.get_by_role("button", name="Opslaan").click()
    expect(ib.get_by_text("Alles is opgeslagen, in één keer.")).to_be_visible()
    check(ib)

    ib.get_by_role("navigation").get_by_role("link", name="Toetsuitslagen").click()
    ib.wait_for_url("**/toetsuitslagen")
    imported = ib.get_by_role("row").filter(has_text="uitslagen-route8.csv")
    expect(imported).to_contain_text("Daan Jansen")
    expect(imported).to_contain_text("havo/vwo")
    check(ib)
