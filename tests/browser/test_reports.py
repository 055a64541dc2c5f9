"""The reports in Chromium against the served app (issue 15's done-when): the demo school's
directie opens the dashboard, follows a figure to the pupils behind it, opens a dossier and
downloads the PDF (with the integrity line in it); a bestuur of two schools compares them, sees
no names; a teacher is refused the reports. Every page passes axe (WCAG 2.2 A/AA) at desktop
and phone width.

A second school (with three groep 8 pupils, imported by its directie) and the bestuur of both
are added through the command line by the first test that needs them."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_DIRECTOR, DEMO_PASSWORD, DEMO_SCHOOL, DEMO_TEACHER
from tests.browser.helpers import assert_accessible, assert_accessible_at_both_widths, log_in
from tests.browser.served import Served
from workflows.calendar import SchoolYear

PASSWORD = "een-lang-wachtwoord-bestuur"
SECOND = ("98ZY", "OBS De Kompas (demo)")
SECOND_DIRECTIE = "directie@kompas.demo.adviestraject.nl"
BESTUUR = "bert.bestuur@demo.adviestraject.nl"  # not the demo's own board account


def this_year() -> str:
    return str(SchoolYear.containing(datetime.now(ZoneInfo("Europe/Amsterdam")).date()))


@pytest.fixture
def board(served: Served) -> None:
    """The second school with three groep 8 pupils, and a bestuur over both schools."""
    if BESTUUR in served.cli("user", "list"):
        return
    served.cli("school", "add", *SECOND)
    served.cli(
        "user", "add", SECOND_DIRECTIE, "--name", "Directeur Kompas", "--role", "directie",
        "--school", SECOND[0], "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    pupils = served.directory / "kompas.csv"
    pupils.write_text(
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
        "9001;Lotte;;Kramer;8;8K\n9002;Ruben;de;Wit;8;8K\n9003;Iris;;Dekker;8;8K\n",
        encoding="utf-8",
    )
    served.cli(
        "import", "pupils", str(pupils), "--school", SECOND[0], "--school-year", this_year(),
        "--as", SECOND_DIRECTIE,
    )  # fmt: skip
    served.cli(
        "user", "add", BESTUUR, "--name", "Bert Bestuur", "--role", "bestuur",
        "--school", DEMO_SCHOOL.brin, "--school", SECOND[0], "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def test_directie_follows_a_figure_to_the_pupils_opens_a_dossier_and_downloads_the_pdf(
    page: Page,
) -> None:
    log_in(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Rapportage").click()
    page.wait_for_url("**/rapportage")
    heading = f"Rapportage {DEMO_SCHOOL.name}, schooljaar {this_year()}"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".app-integrity")).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("Uitkomst van de heroverwegingen"))
    ).to_be_visible()
    assert_accessible_at_both_widths(page)

    # the figure "voorlopig advies gegeven" (the demo gave Noor, Daan and Sara theirs)
    figure = page.get_by_role(
        "link", name=re.compile(r"^\d+ leerling(en)?: voorlopig advies gegeven")
    )
    count = int(figure.inner_text())
    assert count >= 3
    figure.click()
    page.wait_for_url("**/rapportage/leerlingen?**")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{count} leerlingen: voorlopig advies gegeven"
    )
    names = page.get_by_role("table").get_by_role("link")
    expect(names).to_have_count(count)
    for name in ("Noor de Vries", "Daan Jansen", "Sara El Amrani"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Noor de Vries").click()
    page.wait_for_url("**/dossier")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier van Noor de Vries")
    assert_accessible(page)

    page.go_back()
    page.get_by_role("link", name="Terug naar de rapportage").click()
    page.wait_for_url("**/rapportage?**")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download als PDF").click()
    pdf = download.value
    assert pdf.suggested_filename == f"rapportage-{DEMO_SCHOOL.brin.lower()}-{this_year()}.pdf"
    path = pdf.path()
    assert path is not None
    text = pdf_text(path.read_bytes())
    assert "Integriteit:" in text
    assert f"Rapportage {DEMO_SCHOOL.name}" in text
    assert f"voorlopig advies gegeven {count}" in text


def test_the_bestuur_compares_two_schools_without_names(page: Page, board: None) -> None:
    log_in(page, BESTUUR, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Rapportage").click()
    page.wait_for_url("**/bestuur")
    for name in (DEMO_SCHOOL.name, SECOND[1]):
        expect(page.get_by_role("checkbox", name=name)).to_be_checked()
    page.get_by_role("button", name="Vergelijk").click()
    page.wait_for_url("**/bestuur?**")
    side = page.get_by_role("table", name=re.compile("Scholen naast elkaar"))
    heads = side.get_by_role("columnheader")
    expect(heads).to_have_text(["Cijfer", SECOND[1], DEMO_SCHOOL.name, "totaal"])  # by name
    row = side.get_by_role("row", name=re.compile(r"^groep 8 \(op school\)"))
    expect(row.get_by_role("cell").first).to_have_text("3")  # the Kompas's three
    chart = page.get_by_role("img", name=re.compile("Uitkomst van de heroverwegingen per school"))
    expect(chart).to_be_visible()
    expect(page.locator("a[href*='/rapportage/leerlingen'], a[href*='/dossier']")).to_have_count(0)
    assert_accessible_at_both_widths(page)

    page.get_by_role("checkbox", name=SECOND[1]).uncheck()
    page.get_by_role("button", name="Vergelijk").click()
    expect(page.get_by_text("Kies twee of meer scholen om te vergelijken.")).to_be_visible()
    assert_accessible(page)


def test_a_teacher_is_refused_the_reports(page: Page) -> None:
    log_in(page, DEMO_TEACHER, DEMO_PASSWORD)
    menu = page.get_by_role("navigation")
    expect(menu.get_by_role("link", name="Klassen")).to_be_visible()
    expect(menu.get_by_role("link", name="Rapportage")).to_have_count(0)
    for path in ("/rapportage", "/bestuur"):
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
        expect(page.get_by_text("Als leerkracht kunt u de rapportage")).to_be_visible()
        assert_accessible(page)


def test_on_a_phone_a_chart_says_it_scrolls_sideways_and_on_a_desktop_it_does_not(
    page: Page,
) -> None:
    log_in(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/rapportage")
    box = page.get_by_role("region", name=re.compile("^Grafiek: ")).first
    expect(box).to_have_attribute("tabindex", "0")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # it does scroll here
    expect(page.get_by_text("Schuif opzij om de hele grafiek te zien.").first).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_text("Schuif opzij om de hele grafiek te zien.").first).to_be_hidden()
