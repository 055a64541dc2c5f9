"""Server time of the web pages a teacher uses most: the class page of a class of 60 and a
pupil's page (issue 13's goal: p95 under 100 ms, on SQLite and on PostgreSQL).

Setup (not timed): a fresh database (a SQLite file; PostgreSQL: the database `pages_bench`,
dropped and made anew), the demo school with class 8A of `--pupils` pupils — a third only
enrolled, a third with a voorlopig advies, a third with a corrected voorlopig advies, a higher
toets result, a conversation planned and held and the advice raised (the pupil page shows the
longest of these timelines) — and the demo teacher, logged in through the login form.

Two ways, each `--requests` GETs after 10 warm-up requests, one at a time:
- `in-process`: the real app (create_app on the real container) through Starlette's TestClient;
  the time of each request as the app serves it, without a network;
- `http`: `adviestraject serve` in its own process on loopback, one keep-alive connection; the
  time from sending the request to reading the whole answer (server time plus loopback).
Every answer must be a 200. Prints one line per (backend, way, page) with p50/p95/p99/max in ms,
and one JSON line each. A page the service does not have yet is reported as missing.

Run: .venv/bin/python -m bench.pages [--pupils 60 --requests 200 --backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.advice.trajectories import Actor, CommandContext
from service.api.app import create_app
from service.bootstrap import Container, bootstrap
from service.schools.demo import (
    DEMO_CLASS,
    DEMO_PASSWORD,
    DEMO_SCHOOL,
    DEMO_TEACHER,
    seed_demo_users,
)
from service.schools.register import Pupil
from service.settings import Settings
from service.store.migrate import upgrade
from tests.browser.served import serve, sqlite_file_url
from workflows.calendar import SchoolYear
from workflows.commands import (
    Command,
    CorrectProvisionalAdvice,
    EnrolPupil,
    GiveProvisionalAdvice,
    PlanConversation,
    RaiseAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty
from workflows.errors import DomainError
from workflows.scale import SchoolAdvice, TestAdvice

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pages_bench"
WARM_UP = 10


def settings_for(directory: Path, url: str) -> Settings:
    """The same paths `tests.browser.served.service_env` gives the served process."""
    return Settings(
        database_url=url,
        mail_dir=directory / "mail",
        key_file=directory / "keys" / "pupil-keys.kek",
        anchor_dir=directory / "anchors",
        worker_status_dir=directory / "worker",
    )


@contextmanager
def fresh_database(backend: str, directory: Path, pg_url: str) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_file_url(directory / "pages.db")
        return
    url = make_url(pg_url)
    name = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill_class(container: Container, pupils: int) -> str:
    """The demo school, its teacher, and a class of `pupils`; the id of the pupil with the
    longest timeline."""
    upgrade(container.engine)
    container.register.add_school(DEMO_SCHOOL)
    seed_demo_users(container.accounts)
    today = container.clock().date()
    year = SchoolYear.containing(today)
    context = CommandContext(actor=Actor("bench", "leerkracht"))
    longest, longest_events = "", 0
    for k in range(pupils):
        pupil = uuid.uuid4()
        container.register.add_pupil(
            Pupil(str(pupil), DEMO_SCHOOL.id, f"Leerling{k}", f"Bench{k:04d}", DEMO_CLASS)
        )
        history: list[Command] = [
            EnrolPupil(
                school_id=DEMO_SCHOOL.id, school_year=str(year), groep=8, enrolled_on=year.first_day
            )
        ]
        if k % 3 >= 1:
            history.append(GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=today))
        if k % 3 == 2:
            history += [
                CorrectProvisionalAdvice(
                    advice=SchoolAdvice.VMBO_GLTL_TM_HAVO,
                    corrected_on=today,
                    reason="Typefout bij het invoeren",
                ),
                ReceiveTestResult(
                    provider="IEP",
                    delivery_id=f"bench-{k}",
                    test_advice=TestAdvice.HAVO_VWO,
                    received_on=today,
                ),
                PlanConversation(planned_at=container.clock() + timedelta(minutes=5)),
                RecordConversationHeld(
                    held_on=today,
                    attendees=(ConversationParty.PARENTS, ConversationParty.PUPIL),
                    notes="Ouders en leerling zijn het eens met bijstellen.",
                ),
                RaiseAdvice(advice=SchoolAdvice.HAVO_TM_VWO, decided_on=today),
            ]
        appended = 0
        for command in history:
            try:
                appended += len(container.trajectories.execute(pupil, command, context).event_types)
            except DomainError as refused:
                print(f"setup: {type(command).__name__} refused ({refused}); history shorter")
                break
        if appended > longest_events:
            longest, longest_events = str(pupil), appended
    print(f"setup: {pupils} pupils; the pupil page shows {longest_events} events")
    return longest


def log_in(get: Callable[..., httpx2.Response], post: Callable[..., httpx2.Response]) -> None:
    form = get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        raise SystemExit("no CSRF token on the login form")
    answer = post(
        "/login",
        data={"email": DEMO_TEACHER, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code not in {200, 303}:
        raise SystemExit(f"login failed: {answer.status_code}")


def measure(
    get: Callable[[str], httpx2.Response], path: str, requests: int, shows: str
) -> dict[str, object]:
    first = get(path)
    if first.status_code == 404:
        return {"missing": True}
    if shows not in first.text:
        raise SystemExit(f"{path} does not show {shows!r}: not the page meant to be measured")
    times, statuses = [], set()
    for k in range(WARM_UP + requests):
        started = time.perf_counter()
        answer = get(path)
        elapsed = time.perf_counter() - started
        statuses.add(answer.status_code)
        if k >= WARM_UP:
            times.append(elapsed * 1000)
    times.sort()
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {
        "statuses": sorted(statuses),
        "bytes": len(first.content),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(times[-1], 1),
        "requests": requests,
    }


def report(backend: str, way: str, page: str, figures: dict[str, object]) -> None:
    if figures.get("missing"):
        print(f"{backend:8} {way:10} {page:8} not there yet (404)")
        return
    goal = "ok" if float(figures["p95_ms"]) < 100 else "OVER 100 ms"  # type: ignore[arg-type]
    print(
        f"{backend:8} {way:10} {page:8} p50 {figures['p50_ms']:7} ms  p95 {figures['p95_ms']:7} ms"
        f"  p99 {figures['p99_ms']:7} ms  max {figures['max_ms']:7} ms  "
        f"{figures['bytes']} bytes  {figures['statuses']}  {goal}"
    )
    print(json.dumps({"backend": backend, "way": way, "page": page, **figures}))


def run(backend: str, pupils: int, requests: int, pg_url: str) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(backend, Path(tmp), pg_url) as url,
    ):
        directory = Path(tmp)
        container = bootstrap(settings_for(directory, url))
        try:
            pupil = fill_class(container, pupils)
            # (path, what the page must show: the class's last pupil, the timeline's oldest fact)
            pages = {
                "klas": (
                    f"/klassen?school={DEMO_SCHOOL.id}&klas={DEMO_CLASS}",
                    f"Bench{pupils - 1:04d}",
                ),
                "leerling": (f"/leerlingen/{pupil}", "Ingeschreven in groep 8"),
                "start": ("/", DEMO_SCHOOL.name),
            }
            with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
                log_in(client.get, client.post)
                for name, (path, shows) in pages.items():
                    figures = measure(client.get, path, requests, shows)
                    report(backend, "in-process", name, figures)
        finally:
            container.close()
        with (
            serve(directory, url, worker=False, seed=False) as served,
            httpx2.Client(base_url=served.base_url, timeout=30) as http,
        ):
            log_in(http.get, http.post)
            for name, (path, shows) in pages.items():
                report(backend, "http", name, measure(http.get, path, requests, shows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(backend, args.pupils, args.requests, args.pg_url)


if __name__ == "__main__":
    main()
