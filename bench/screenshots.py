"""PNGs of the main pages, per role, at 1280 px and 360 px wide, into docs/screenshots/.

Starts the real service as `make run` does (migrate, seed-demo, serve with its worker; on a
throw-away SQLite file), adds IB, beheer accounts, a groep 7 class, a second school and a bestuur
over both, sends one toets result through the chain (Noor de Vries: havo, toetsadvies vwo, so
she needs a heroverweging: the worker plans her talk in the demo teacher's afternoons of 15-24
March and e-mails the parents their link), invites a teacher, logs in per role in Debian's
chromium and writes `<role>-<page>-<width>.png` (the whole page, not just the viewport), with
what axe-core (WCAG 2.2 A/AA) and the 360 px check find on each page. The parent opens the
e-mail's link and asks for another time (so the talk's page shows what the parents said) before
the staff pages are taken. A page the service does not have yet (404) is left out and named in
the output; old PNGs of pages no longer taken are removed.

Run: make screenshots   (or .venv/bin/python -m bench.screenshots [DIR])
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine

from service.scheduling import views
from service.schools.demo import (
    AMSTERDAM,
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
    watch,
)
from tests.browser.served import Served, serve
from workflows.calendar import SchoolYear

IB = "ib@demo.adviestraject.nl"
BEHEER = "beheer@demo.adviestraject.nl"
BESTUUR = "bas.bestuur@demo.adviestraject.nl"  # of both schools (the demo's own: one)
INVITED = "nina.nieuw@demo.adviestraject.nl"
NOOR = str(demo_pupil_id("Noor", "de Vries"))
LUUK = str(demo_pupil_id("Luuk", "Bakker"))
PARENT = "ouder1.noor.devries@demo.adviestraject.nl"
SCHOOL = DEMO_SCHOOL.id
SECOND = ("98ZY", "OBS De Kompas (demo)")  # the bestuur's second school
SECOND_DIRECTIE = "directie@kompas.demo.adviestraject.nl"
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


def parent_asks_another_time(page: Page) -> None:
    """The parent answers the proposal from the e-mail's link: not on Tuesday afternoons, with a
    message; the page confirms it (the talk's page then shows what the parents said)."""
    page.locator("#veld-niet-dinsdag-middag").check()
    page.locator("#veld-bericht-ander").fill("Op dinsdag werk ik; donderdagmiddag past goed.")
    page.get_by_role("button", name="Vraag een ander moment").click()
    page.wait_for_load_state("load")


def report_pupils(page: Page) -> None:
    """The report's drill-down: the pupils behind the figure 'voorlopig advies gegeven'."""
    page.goto("/rapportage")
    page.get_by_role(
        "link", name=re.compile(r"^\d+ leerling(en)?: voorlopig advies gegeven")
    ).click()
    page.wait_for_url("**/rapportage/leerlingen?**")


def board_compares(page: Page) -> None:
    """The bestuur compares both schools (the form's default choice)."""
    page.goto("/bestuur")
    page.get_by_role("button", name="Vergelijk").click()
    page.wait_for_url("**/bestuur?**")


def raise_form_after_the_talk(page: Page) -> None:
    """The form to raise Noor's advice, offered once the heroverweging talk is settled (the demo
    school requires the talk): her talk is planned for March, and a talk cannot be recorded as
    held before its day, so the parents' declining it is recorded through its form first."""
    page.goto(f"/leerlingen/{NOOR}/acties/gesprek-afgezien")
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()  # the school's today
    page.get_by_label("Afgezien op").fill(today.isoformat())
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(rf"/leerlingen/{NOOR}(\?.*)?$"))
    page.goto(f"/leerlingen/{NOOR}/acties/advies-bijstellen")


def pages(
    invitation: str, parents: str, talk_id: str, week: str
) -> list[tuple[str, str | None, list[tuple[str, Visit]]]]:
    """(role, who logs in or None, [(page name, visit)])."""
    return [
        (
            "bezoeker",
            None,
            [
                ("inloggen", "/login"),
                ("uitnodiging", invitation),
                ("ouders-gesprek", parents),
                ("ouders-ander-moment", parent_asks_another_time),
            ],
        ),
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
                ("gesprekken-week", f"/gesprekken?week={week}"),
                ("gesprekken-lijst", f"/gesprekken?week={week}&weergave=lijst"),
                ("gesprek", f"/gesprekken/{talk_id}"),
                ("beschikbaarheid", "/beschikbaarheid?ronde=reconsideration"),
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
                ("gesprekken-risico", "/gesprekken/risico"),
            ],
        ),
        (
            "directie",
            DEMO_DIRECTOR,
            [
                ("start", "/"),
                ("instellingen", "/instellingen"),
                ("toetsuitslagen", "/toetsuitslagen"),
                ("gesprekken-school", f"/gesprekken?week={week}&wie=alle"),
                ("beschikbaarheid", "/beschikbaarheid?ronde=reconsideration"),
                ("dossier", f"/leerlingen/{NOOR}/dossier"),
                ("rapportage", "/rapportage"),
                ("rapportage-leerlingen", report_pupils),
                ("toegangslog", "/toegangslog"),
            ],
        ),
        (
            "bestuur",
            BESTUUR,
            [
                ("start", "/"),
                ("klassen", "/klassen"),
                ("instellingen", "/instellingen"),
                ("bestuur", board_compares),
            ],
        ),
        (
            "beheer",
            BEHEER,
            [("start", "/"), ("scholen", "/beheer/scholen"), ("accounts", "/beheer/accounts")],
        ),
    ]


def second_school(served: Served) -> None:
    """A second school with three groep 8 pupils, imported by its directie (for the bestuur)."""
    served.cli("school", "add", *SECOND)
    served.cli(
        "user", "add", SECOND_DIRECTIE, "--name", "Directeur Kompas", "--role", "directie",
        "--school", SECOND[0], "--password-stdin", stdin=DEMO_PASSWORD + "\n",
    )  # fmt: skip
    pupils = served.directory / "kompas.csv"
    pupils.write_text(
        "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Klas\n"
        "9001;Lotte;;Kramer;8;8K\n9002;Ruben;de;Wit;8;8K\n9003;Iris;;Dekker;8;8K\n",
        encoding="utf-8",
    )
    year = SchoolYear.containing(datetime.now(AMSTERDAM).date())
    served.cli(
        "import", "pupils", str(pupils), "--school", SECOND[0], "--school-year", str(year),
        "--as", SECOND_DIRECTIE,
    )  # fmt: skip


def noor_talk(served: Served) -> tuple[str, str]:
    """Noor's heroverweging talk as the worker planned it: its id and the ISO week of its time."""
    engine = create_engine(served.env["ADVIESTRAJECT_DATABASE_URL"])
    try:
        planned = [(r.talk_id, r.start) for r in views.for_pupil(engine, NOOR) if r.start]
    finally:
        engine.dispose()
    if not planned:
        raise SystemExit("the worker planned no talk for Noor")
    talk_id, start = planned[0]
    year, week, _ = start.astimezone(AMSTERDAM).isocalendar()
    return talk_id, f"{year}-W{week:02d}"


def prepare(served: Served) -> tuple[str, str, str, str]:
    """A second school, a bestuur of both and a beheer account, a groep 7 class (for the year
    rollover), Noor's toetsadvies vwo through the chain, processed (her talk planned, the parents
    invited), and a teacher invited; the invitation's link, the parent's link, the talk's id and
    week."""
    second_school(served)  # the IB account is the demo's own
    served.cli(
        "user", "add", BESTUUR, "--name", "Bas Bestuur", "--role", "bestuur", "--school",
        DEMO_SCHOOL.brin, "--school", SECOND[0], "--password-stdin", stdin=DEMO_PASSWORD + "\n",
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
        "--school", DEMO_SCHOOL.brin, "--class", DEMO_CLASS, "--as", BEHEER,
    )  # fmt: skip
    # the worker beside serve handles the delivery: the talk planned, the parents e-mailed
    parents = served.mail_to(PARENT, r"/ouders/[A-Za-z0-9_\-]+", timeout=60)
    invitation = served.mail_to(INVITED, r"/uitnodiging/[A-Za-z0-9_\-.~]+")
    return (invitation, parents, *noor_talk(served))


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
        prepared = prepare(served)
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for role, email, visits in pages(*prepared):
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
