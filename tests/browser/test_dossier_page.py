"""The dossier in chromium: directie follows the pupil page's link to the dossier, which passes
axe-core (WCAG 2.2 A/AA) and fits 360 px, and downloads the PDF with the integrity line on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect

from service.schools.demo import DEMO_DIRECTOR, DEMO_PASSWORD, demo_pupil_id
from tests.browser.helpers import assert_accessible_at_both_widths, log_in

DAAN = demo_pupil_id("Daan", "Jansen")  # voorlopig vmbo-gt/havo in the demo school


def test_directie_opens_the_dossier_from_the_pupil_page_and_downloads_the_pdf(
    page: Page, tmp_path: Path
) -> None:
    log_in(page, DEMO_DIRECTOR, DEMO_PASSWORD)
    page.goto(f"/leerlingen/{DAAN}")
    page.get_by_role("link", name="Het dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossier van Daan Jansen")
    expect(page.get_by_role("heading", name="Alle feiten op volgorde")).to_be_visible()
    expect(page.get_by_text("Voorlopig schooladvies: vmbo-gt/havo").first).to_be_visible()
    assert_accessible_at_both_widths(page)
    with page.expect_download() as started:
        page.get_by_role("link", name="Download als PDF").click()
    download = started.value
    assert download.suggested_filename == "dossier-daan-jansen.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(saved), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "Dossier van Daan Jansen" in text
        assert "feiten van deze leerling nagerekend: in orde" in text
