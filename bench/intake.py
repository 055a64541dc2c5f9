"""Issue 6's national March: 190,000 groep 8 pupils in 6,000 schools, each with a voorlopig
advies, get their toets results; ~30% of them above the advice. How fast are results processed,
and how long until every heroverweging is flagged?

Setup (not timed): the schools, the register and each pupil's enrolment and voorlopig advies,
written through the batch command handler. Then one of two ways in:
- `--way import` (default): the providers' exports as CSV files (`--files` files, each with a
  brin column covering a share of the schools), each read by `import_results` in one transaction
  (what `adviestraject import results` does). The clock runs from the first file's read until the
  last commit; then every pupil above the advice is `reconsideration_required`.
- `--way http`: the chain itself: one `POST /leerlingresultaat` per pupil to `serve --workers 2`
  (`--clients` async users, one mandated machine client), then the worker (`process_pending`,
  batches of 500) turns the inbox into events.
Prints JSON lines: results processed per second and seconds until all are flagged (checked
against the trajectories read model), plus the setup time.
Run: .venv/bin/python -m bench.intake --backend postgres|sqlite-file [--pupils 190000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import func, insert, select

from bench.api_load import serving
from bench.store import database
from service.advice.batch import BatchItem
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container, bootstrap
from service.imports.results import import_results
from service.intake.processing import process_pending
from service.intake.standard import example
from service.settings import Settings
from service.store.migrate import upgrade
from service.store.schema import pupils as pupil_rows
from service.store.schema import schools as school_rows
from service.store.schema import trajectories
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil, GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

ADVICE = SchoolAdvice.VMBO_GLTL_TM_HAVO  # vmbo-gt/havo: havo/vwo is higher, the rest are not
NOT_HIGHER = ["vmbo-gt/havo", "vmbo-kb/vmbo-gt", "vmbo-bb/vmbo-kb"]


def route(n: int) -> tuple[str, str]:
    return f"{n:014d}BB0053", f"{n:014d}BB0000"


def prepare(container: Container, schools: int, pupils: int) -> list[tuple[int, str]]:
    """(school number, pupil id) for every pupil, each with a voorlopig advies."""
    today = datetime.now(UTC).date()
    year = SchoolYear.containing(today)
    context = CommandContext(actor=Actor("bench", "beheer"))
    everyone = [(k % schools, str(uuid.uuid4())) for k in range(pupils)]
    with container.engine.begin() as conn:
        conn.execute(
            insert(school_rows),
            [
                {
                    "id": f"school-{s}",
                    "brin": f"{s:04d}",
                    "name": f"School {s}",
                    "edu_route": route(s)[0],
                    "oin": route(s)[1],
                }
                for s in range(schools)
            ],
        )
    for start in range(0, pupils, 2000):
        chunk = everyone[start : start + 2000]
        with container.engine.begin() as conn:
            conn.execute(
                insert(pupil_rows),
                [
                    {
                        "id": p,
                        "school_id": f"school-{s}",
                        "given_name": "L",
                        "family_name": f"B{k}",
                        "class_name": "8A",
                    }
                    for k, (s, p) in enumerate(chunk)
                ],
            )
        items = [
            BatchItem(
                uuid.UUID(p),
                [
                    EnrolPupil(
                        school_id=f"school-{s}",
                        school_year=str(year),
                        groep=8,
                        enrolled_on=year.first_day,
                    ),
                    GiveProvisionalAdvice(advice=ADVICE, given_on=today),
                ],
                context,
                expected_version=0,
            )
            for s, p in chunk
        ]
        with container.trajectories.batch() as batch:
            refused = [o.error for o in batch.execute(items) if o.error is not None]
        if refused:
            raise SystemExit(f"setup refused: {refused[0]}")
    return everyone


def message(pupil: str, toetsadvies: str) -> bytes:
    body: dict[str, Any] = example("/leerlingresultaat", "Leerlingresultaat")
    scores = body["resultatenscores"]
    scores["id"] = f"resultaat-{pupil}"
    scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": pupil}]
    scores["resultaten"]["resultaten"][0]["waarde"] = toetsadvies
    return json.dumps(body).encode()


async def post_all(
    port: int, token: str, deliveries: list[tuple[str, bytes]], clients: int
) -> list[int]:
    queue = list(reversed(deliveries))
    statuses: list[int] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def user() -> None:
        async with httpx2.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
        ) as client:
            while queue:
                url, body = queue.pop()
                statuses.append((await client.post(url, content=body)).status_code)

    await asyncio.gather(*(user() for _ in range(clients)))
    return statuses


def flagged(container: Container) -> int:
    with container.engine.connect() as conn:
        found: int = conn.scalar(
            select(func.count())
            .select_from(trajectories)
            .where(trajectories.c.status == "reconsideration_required")
        )
    return found


def by_http(
    container: Container,
    url: str,
    args: argparse.Namespace,
    everyone: list[tuple[int, str]],
    higher: set[int],
    rnd: random.Random,
) -> dict[str, Any]:
    client = container.clients.add(
        "koppeling@bench.nl", "bench", [f"school-{s}" for s in range(args.schools)]
    )
    issued = container.clients.exchange(client.client_id, client.client_secret)
    if issued is None:
        raise SystemExit("the bench's client credentials did not work")
    deliveries = []
    for k, (school, pupil) in enumerate(everyone):
        edu_to, oin = route(school)
        text = "havo/vwo" if k in higher else rnd.choice(NOT_HIGHER)
        path = f"/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to={edu_to}&edu-from={oin}"
        deliveries.append((path, message(pupil, text)))
    with serving(url, args.workers) as port:
        first_post = time.perf_counter()
        statuses = asyncio.run(post_all(port, issued.token, deliveries, args.clients))
        posted_s = time.perf_counter() - first_post
    processing = time.perf_counter()
    while process_pending(container, limit=500):
        pass
    processed_s = time.perf_counter() - processing
    n = len(everyone)
    return {
        "accepted": statuses.count(202),
        "accepted_per_s": round(n / posted_s, 1),
        "worker_processed_per_s": round(n / processed_s, 1),
        "seconds_until_all_flagged": round(time.perf_counter() - first_post, 1),
    }


def by_import(
    container: Container,
    directory: Path,
    args: argparse.Namespace,
    everyone: list[tuple[int, str]],
    higher: set[int],
    rnd: random.Random,
) -> dict[str, Any]:
    files = [directory / f"aanbieder-{f}.csv" for f in range(args.files)]
    lines: list[list[str]] = [["brin;leerling;toetsadvies;lezen;rekenen\n"] for _ in files]
    for k, (school, pupil) in enumerate(everyone):
        text = "havo/vwo" if k in higher else rnd.choice(NOT_HIGHER)
        lines[school % args.files].append(f"{school:04d};{pupil};{text};2F;1F\n")
    for path, rows in zip(files, lines, strict=True):
        path.write_text("".join(rows), encoding="utf-8")
    started = time.perf_counter()
    imported = 0
    for path in files:
        report = import_results(container, path, provider="bench-toets")
        if report.errors:
            raise SystemExit(f"{path}: {report.errors[0]}")
        imported += report.rows
    seconds = time.perf_counter() - started
    return {
        "files": args.files,
        "imported": imported,
        "processed_per_s": round(imported / seconds, 1),
        "seconds_until_all_flagged": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", required=True, choices=["sqlite-file", "postgres"])
    parser.add_argument("--way", choices=["import", "http"], default="import")
    parser.add_argument("--schools", type=int, default=6000)
    parser.add_argument("--pupils", type=int, default=190_000)
    parser.add_argument("--higher", type=float, default=0.3)
    parser.add_argument("--files", type=int, default=6, help="provider exports (import)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent posters (http)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (http)")
    args = parser.parse_args()
    rnd = random.Random(7)
    with database(args.backend) as url, tempfile.TemporaryDirectory() as directory:
        container = bootstrap(Settings(database_url=url))
        upgrade(container.engine)
        started = time.perf_counter()
        everyone = prepare(container, args.schools, args.pupils)
        setup_s = time.perf_counter() - started
        higher = set(rnd.sample(range(len(everyone)), int(len(everyone) * args.higher)))
        if args.way == "http":
            figures = by_http(container, url, args, everyone, higher, rnd)
        else:
            figures = by_import(container, Path(directory), args, everyone, higher, rnd)
        found = flagged(container)
        container.close()
    print(
        json.dumps(
            {
                "lib": "adviestraject",
                "backend": args.backend,
                "bench": f"intake-{args.way}",
                "schools": args.schools,
                "pupils": len(everyone),
                "setup_s": round(setup_s, 1),
                **figures,
                "heroverwegingen_expected": len(higher),
                "heroverwegingen_flagged": found,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
