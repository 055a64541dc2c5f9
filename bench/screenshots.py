"""PNGs of the main pages, per role, at 1280 px and 360 px wide, into docs/screenshots/.

Starts the real service as `make run` does (migrate, seed-demo, serve with its worker; on a
throw-away SQLite file), adds IB, bestuur and beheer accounts and a groep 7 class to the demo
school, sends one toets result through the chain (Noor de Vries: havo, toetsadvies vwo, so she
needs a heroverweging), invites a teacher, logs in per role in Debian's chromium and writes
`<role>-<page>-<width>.png` (the whole page, not just the viewport), with what axe-core (WCAG 2.2
A/AA) and the 360 px check find on each page. A page the service does not have yet (404) is left
out and named in the output; old PNGs of pages no longer taken are removed.

Run: make screenshots   (or .venv/bin/python -m bench.screenshots [DIR])
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from service.schools.demo import (
    DEMO_CLASS,
    DEMO_DIRECTOR,
    DEMO_EDU_TO,
    DEMO_OIN,
    DEMO_PASSWORD,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    demo_pupil_id,
)
from tests.browser.chain import mandated_provider
from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    accessibility_problems,
    fit_problems,
    log_in,
    today,
    watch,
)
from tests.browser.served import Served, serve

IB = "ib@demo.adviestraject.nl"
BEHEER = "beheer@demo.adviestraject.nl"
BESTUUR = "bestuur@demo.adviestraject.nl"
INVITED = "nina.nieuw@demo.adviestraject.nl"
NOOR = str(demo_pupil_id("Noor", "de Vries"))
LUUK = str(demo_pupil_id("Luuk", "Bakker"))
SCHOOL = DEMO_SCHOOL.id
# a page: its path, or what the browser does to get there (a form sent)
Visit = str | Callable[[Page], None]


def bad_pupils_csv(page: Page) -> None:
    """The import's preview of a file with one bad line (nothing stored)."""
    page.goto("/import")
    page.get_by_label("CSV-bestand").set_input_files(
        {
            "name": "leerlingen-8b.csv",
            "mimeType": "text/csv",
            "buffer": (
                "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
                "8101;Emma;;Jansen;8;8B\n8102;Liam;van;Dijk;8;8B\n8103;Zoë;;Bakker;9;8B\n"
            ).encode(),
        }
    )
    page.get_by_role("button", name="Controleren (nog niets opslaan)").click()
    page.wait_for_load_state("load")


def raise_form_after_the_talk(page: Page) -> None:
    """The form to raise Noor's advice, offered once the heroverweging talk is recorded as held
    (the demo school requires the talk): the talk is recorded through its form first."""
    page.goto(f"/leerlingen/{NOOR}/acties/gesprek-gevoerd")
    page.get_by_label("Gevoerd op").fill(today())
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(rf"/leerlingen/{NOOR}(\?.*)?$"))
    page.goto(f"/leerlingen/{NOOR}/acties/advies-bijstellen")


def pages(invitation: str) -> list[tuple[str, str | None, list[tuple[str, Visit]]]]:
    """(role, who logs in or None, [(page name, visit)])."""
    return [
        ("bezoeker", None, [("inloggen", "/login"), ("uitnodiging", invitation)]),
        (
            "leerkracht",
            DEMO_TEACHER,
            [
                ("start", "/"),
                ("klas", f"/klassen?school={SCHOOL}&klas={DEMO_CLASS}"),
                ("leerling", f"/leerlingen/{NOOR}"),
                ("leerling-zonder-advies", f"/leerlingen/{LUUK}"),
                ("voorlopig-advies-klas", f"/klassen/voorlopig?school={SCHOOL}&klas={DEMO_CLASS}"),
                ("heroverwegingen", "/heroverwegingen"),
                ("gesprek-gevoerd", f"/leerlingen/{NOOR}/acties/gesprek-gevoerd"),
                ("advies-bijstellen", raise_form_after_the_talk),
            ],
        ),
        (
            "ib",
            IB,
            [
                ("start", "/"),
                ("klassen", "/klassen"),
                ("import", "/import"),
                ("import-voorbeeld-met-fout", bad_pupils_csv),
                ("toetsuitslagen", "/toetsuitslagen"),
                ("jaarovergang", "/jaarovergang"),
            ],
        ),
        (
            "directie",
            DEMO_DIRECTOR,
            [
                ("start", "/"),
                ("instellingen", "/instellingen"),
                ("toetsuitslagen", "/toetsuitslagen"),
            ],
        ),
        (
            "bestuur",
            BESTUUR,
            [("start", "/"), ("klassen", "/klassen"), ("instellingen", "/instellingen")],
        ),
        (
            "beheer",
            BEHEER,
            [("start", "/"), ("scholen", "/beheer/scholen"), ("accounts", "/beheer/accounts")],
        ),
    ]


def prepare(served: Served) -> str:
    """IB, bestuur and beheer accounts, a groep 7 class (for the year rollover), Noor's
    toetsadvies vwo through the chain, processed, and a teacher invited; the invitation's link."""
    served.cli(
        "user", "add", IB, "--name", "Ina de Boer (IB)", "--role", "ib", "--school", "99ZZ",
        "--password-stdin", stdin=DEMO_PASSWORD + "\n",
    )  # fmt: skip
    served.cli(
        "user", "add", BESTUUR, "--name", "Bas Bestuur", "--role", "bestuur", "--school",
        DEMO_SCHOOL.brin, "--password-stdin", stdin=DEMO_PASSWORD + "\n",
    )  # fmt: skip
    served.cli(
        "user", "add", BEHEER, "--name", "Bert Beheer", "--role", "beheer", "--password-stdin",
        stdin=DEMO_PASSWORD + "\n",
    )  # fmt: skip
    groep7 = served.directory / "groep7.csv"
    groep7.write_text(
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
        "7001;Mila;;Hendriks;7;7A\n7002;Sem;van;Leeuwen;7;7A\n"
        "7003;Julia;;Vos;7;7A\n7004;Finn;de;Graaf;7;7A\n",
        encoding="utf-8",
    )
    served.cli("import", "pupils", str(groep7), "--school", DEMO_SCHOOL.brin, "--as", IB)
    provider = mandated_provider(served, DEMO_SCHOOL.brin, DEMO_EDU_TO, DEMO_OIN)
    status = provider.deliver(NOOR, "vwo")
    if status != 202:
        raise SystemExit(f"the chain refused the delivery: {status}")
    served.cli(
        "user", "invite", INVITED, "--name", "Nina Nieuw", "--role", "leerkracht",
        "--school", DEMO_SCHOOL.brin, "--class", DEMO_CLASS,
    )  # fmt: skip
    time.sleep(2)  # the worker beside serve handles the delivery and the e-mail
    return served.mail_to(INVITED, r"/uitnodiging/[A-Za-z0-9_\-.~]+")


def shoot(page: Page, visit: Visit, stem: Path) -> list[str] | None:
    """The page at both widths into PNGs; what axe-core and the 360 px check found on it
    (None: the page is not there)."""
    page.set_viewport_size(DESKTOP)
    if callable(visit):
        visit(page)
    else:
        answer = page.goto(visit)
        if answer is None or answer.status == 404:
            return None
    page.screenshot(path=f"{stem}-1280.png", full_page=True)
    found = [f"1280: {line}" for line in accessibility_problems(page)]
    found += [f"360: {line}" for line in fit_problems(page)]
    page.screenshot(path=f"{stem}-360.png", full_page=True)
    found += [f"360: {line}" for line in accessibility_problems(page)]
    return found


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    written: set[Path] = set()
    missing: list[str] = []
    with (
        tempfile.TemporaryDirectory() as directory,
        serve(Path(directory)) as served,
        sync_playwright() as driver,
    ):
        invitation = prepare(served)
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for role, email, visits in pages(invitation):
            context = browser.new_context(
                viewport=DESKTOP, locale="nl-NL", base_url=served.base_url
            )
            page = watch(context.new_page())
            if email is not None:
                log_in(page, email, DEMO_PASSWORD)
            for name, visit in visits:
                stem = out / f"{role}-{name}"
                where = visit if isinstance(visit, str) else visit.__name__
                found = shoot(page, visit, stem)
                if found is None:
                    missing.append(f"{role} {where}")
                    continue
                written |= {Path(f"{stem}-1280.png"), Path(f"{stem}-360.png")}
                verdict = f"{len(found)} problem(s)" if found else "axe: 0 violations"
                print(f"{role:10} {where:60} -> {stem.name}-{{1280,360}}.png  {verdict}")
                for line in found:
                    print(f"    {line.splitlines()[0]}")
            context.close()
        browser.close()
    for stale in set(out.glob("*.png")) - written:
        stale.unlink()
    for path in missing:
        print(f"not there yet (404): {path}")
    print(f"{len(written)} PNGs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
