"""The school report after the usability walkthrough, through the real app on a small generated
year: the PDF does not print the phone's hint "Schuif opzij ..." (the web page keeps it for
narrow screens), and a two-word chart column head reads "geen toetsadvies", not
"geentoetsadvies"."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from bench.report_year import generate
from service.accounts.roles import Role, Scope
from service.bootstrap import Container
from service.reports.charts import _column_head
from tests.conftest import Clock, sqlite_url
from tests.e2e.web import PASSWORD, browse
from workflows.scale import SchoolAdvice, TestAdvice


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "reports.db")  # the page's print, not the figures: one DB


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def test_the_report_pdf_leaves_out_the_phone_s_scroll_hint(
    container: Container, clock: Clock
) -> None:
    def set_clock(moment: datetime) -> None:
        clock.now = moment

    year = generate(container, set_clock, schools=1, pupils_per_school=12, seed=15)
    school = year.schools[0].id
    container.accounts.add_user("directie@a.nl", "Dirk", Role.DIRECTIE, [Scope(school)], PASSWORD)

    with browse(container, "directie@a.nl") as directie:
        page = directie.get("/rapportage?jaar=2025-2026").text
        pdf = directie.get(f"/rapportage/rapportage.pdf?jaar=2025-2026&school={school}")

    assert pdf.status_code == 200
    assert "Schuif opzij om de hele grafiek te zien." in page  # for a narrow screen
    # a toetsadvies spelled as a schooladvies is, as on every other page ("vmbo-gt")
    assert "vmbo-gl-tl" not in page
    assert "vmbo-gt/</tspan>" in page or "vmbo-gt/havo" in page
    words = " ".join(pdf_text(pdf.content).split())
    assert "Heroverwegingen" in words
    assert "Schuif opzij" not in words


def test_a_two_word_column_head_keeps_its_space_when_read_as_text() -> None:
    head = _column_head(40, "geen toetsadvies")
    assert re.sub(r"<[^>]+>", "", head) == "geen toetsadvies"
    assert head.count("<tspan") == 2  # still on two lines


def test_a_toetsadvies_is_spelled_with_the_schooladvies_level_names() -> None:
    assert [t.label for t in TestAdvice] == [
        "pro/vmbo-bb",
        "vmbo-bb/vmbo-kb",
        "vmbo-kb/vmbo-gt",
        "vmbo-gt/havo",
        "havo/vwo",
        "vwo",
    ]
    assert TestAdvice.VMBO_GLTL_HAVO.label == SchoolAdvice.VMBO_GLTL_TM_HAVO.label
