"""The page frame after the usability walkthrough, through the real app on SQLite and PostgreSQL:
the parents' pages (and their refusals) end with a parents' footer (the school, whom to ask),
not the staff's ("controleerbare geschiedenis", the English API documentation); the staff's
menu sits in a native details element "Menu" (folded on a phone, open on a wide screen by
app.css) with every link still in it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from tests.conftest import Clock
from tests.e2e.heroverweging import SCHOOL
from tests.e2e.test_invitations import FATHER, MOTHER, with_teacher
from tests.e2e.test_parents_page import Family, invited
from tests.e2e.web import PASSWORD, browse

STAFF_FOOTER = "controleerbare geschiedenis"


def footer(html: str) -> str:
    found = re.search(r"<footer[^>]*>(.*?)</footer>", html, re.S)
    assert found, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


@pytest.fixture
def noor(container: Container, clock: Clock) -> Family:
    return invited(with_teacher(container), clock, "Noor", [MOTHER, FATHER])


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), follow_redirects=False) as test_client:
        yield test_client


def test_the_parents_pages_have_a_parents_footer(
    container: Container, noor: Family, client: TestClient
) -> None:
    token = noor.tokens[MOTHER[0]]
    page = client.get(f"/ouders/{token}")
    refused = client.get("/ouders/" + "x" * 43)

    assert page.status_code == 200
    school = container.register.school(container.register.pupil(noor.pupil).school_id)  # type: ignore[union-attr]
    assert school is not None
    assert footer(page.text) == (
        f"{school.name}. Vragen over het gesprek of het schooladvies? "
        "Neem contact op met de school."
    )
    assert refused.status_code in (403, 404, 410)
    assert footer(refused.text) == (
        "Vragen over het gesprek of het schooladvies? Neem contact op met de school van uw kind."
    )
    for html in (page.text, refused.text):
        assert STAFF_FOOTER not in html
        assert 'href="/docs"' not in html


def test_the_staff_menu_folds_behind_menu_with_every_link_and_the_staff_footer(
    container: Container,
) -> None:
    container.register.add_school(SCHOOL)
    container.accounts.add_user(
        "directie@school.nl", "Dirk", Role.DIRECTIE, [Scope(SCHOOL.id)], PASSWORD
    )

    with browse(container, "directie@school.nl") as directie:
        html = directie.get("/gesprekken").text

    nav = re.search(r'<nav class="app-nav" aria-label="Hoofdmenu">(.*?)</nav>', html, re.S)
    assert nav
    menu = re.search(
        r'<details class="app-nav__menu">\s*<summary[^>]*>(.*?)</summary>', nav.group(1), re.S
    )
    assert menu
    assert re.sub(r"<[^>]+>", "", menu.group(1)) == "Menu: Gesprekken"
    links = re.findall(r'<a class="utrecht-link" href="([^"]+)"', nav.group(1))
    assert len(links) >= 10
    assert "/rapportage" in links
    assert "/toegangslog" in links
    assert STAFF_FOOTER in footer(html)
