"""Results in through the chain: how fast deliveries are accepted over HTTP and turned into
events by the worker, and how long until every higher toetsadvies is flagged.

First cut of issue 6's national March (190,000 pupils in 6,000 schools): `--schools` schools of
`--pupils` groep 8 pupils each get a voorlopig advies (setup, not timed); a provider's system
then posts one Leerlingresultaat per pupil to `serve --workers 2` (`--clients` async httpx2
users), `--higher` of them above the advice; then one worker processes the inbox. Prints JSON
lines: deliveries accepted per second, processed per second, and the seconds from the first post
until the last heroverweging is flagged (checked against the trajectories read model).
Run: .venv/bin/python -m bench.intake --backend postgres|sqlite-file [--schools 60 --pupils 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx2
from sqlalchemy import func, select

from bench.api_load import serving
from bench.store import database
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import Container, bootstrap
from service.intake.processing import process_pending
from service.intake.standard import example
from service.schools.register import Pupil, School
from service.settings import Settings
from service.store.migrate import upgrade
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
    everyone = []
    for s in range(schools):
        school = School(id=f"school-{s}", brin=f"{s:04d}", name=f"School {s}")
        container.register.add_school(school)
        container.register.set_routing(school.id, *route(s))
        for p in range(pupils):
            pupil = uuid.uuid4()
            container.register.add_pupil(Pupil(str(pupil), school.id, "L", f"B{p}", "8A"))
            enrol = EnrolPupil(
                school_id=school.id, school_year=str(year), groep=8, enrolled_on=year.first_day
            )
            give = GiveProvisionalAdvice(advice=ADVICE, given_on=today)
            container.trajectories.execute_all(pupil, [enrol, give], context, expected_version=0)
            everyone.append((s, str(pupil)))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", required=True, choices=["sqlite-file", "postgres"])
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--pupils", type=int, default=30)
    parser.add_argument("--higher", type=float, default=0.3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rnd = random.Random(7)
    with database(args.backend) as url:
        container = bootstrap(Settings(database_url=url))
        upgrade(container.engine)
        started = time.perf_counter()
        everyone = prepare(container, args.schools, args.pupils)
        setup_s = time.perf_counter() - started
        client = container.clients.add(
            "koppeling@bench.nl", "bench", [f"school-{s}" for s in range(args.schools)]
        )
        issued = container.clients.exchange(client.client_id, client.client_secret)
        if issued is None:
            raise SystemExit("the bench's client credentials did not work")
        higher = set(rnd.sample(range(len(everyone)), int(len(everyone) * args.higher)))
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
        flagged_s = time.perf_counter() - first_post
        with container.engine.connect() as conn:
            flagged = conn.scalar(
                select(func.count())
                .select_from(trajectories)
                .where(trajectories.c.status == "reconsideration_required")
            )
        container.close()
    n = len(everyone)
    print(
        json.dumps(
            {
                "lib": "adviestraject",
                "backend": args.backend,
                "bench": "intake",
                "schools": args.schools,
                "pupils": n,
                "setup_s": round(setup_s, 1),
                "accepted": statuses.count(202),
                "accepted_per_s": round(n / posted_s, 1),
                "processed_per_s": round(n / processed_s, 1),
                "heroverwegingen_expected": len(higher),
                "heroverwegingen_flagged": flagged,
                "seconds_until_all_flagged": round(flagged_s, 1),
                "national_estimate_s": round(flagged_s * 190_000 / n, 0),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
