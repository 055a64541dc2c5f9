"""A mixed read/write load over HTTP against `adviestraject serve --workers 2` on PostgreSQL.

Setup (not timed): a fresh schema, the demo school's class 8A with `--pupils` enrolled pupils, a
teacher token. Then `--clients` asyncio tasks (httpx2's AsyncClient, the successor of httpx),
each on its own keep-alive connection on loopback (renewed every 50 requests), send requests for
`--seconds`: 80 % GET a pupil's trajectory, 10 % GET the class overview (first page of 50), 10 %
POST a command: a pupil's voorlopig advies, and once every pupil has one, corrections of it (each
a real change, 201). `--mix` changes the weights (`0,0,1`: commands only). Every request is
authenticated, authorised and access-logged as in production.
Prints one JSON line per request kind (requests/s, p50/p99 ms, statuses) and one for all.
Run: .venv/bin/python -m bench.api_load [--pupils 400 --clients 8 --seconds 20]
PostgreSQL from PGHOST/PGPORT/PGUSER/PGDATABASE as for bench/store.py.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx2

from bench.store import database
from service.advice.trajectories import Actor, CommandContext
from service.bootstrap import bootstrap
from service.schools.demo import DEMO_CLASS, DEMO_SCHOOL, DEMO_TEACHER, seed_demo_users
from service.schools.register import Pupil
from service.settings import Settings
from service.store.migrate import upgrade
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil

CLI = str(Path(sys.executable).parent / "adviestraject")
REQUESTS_PER_CONNECTION = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(url: str, workers: int) -> Iterator[int]:
    """`adviestraject serve --workers N` on a free port of loopback, until the block ends."""
    port = free_port()
    env = {**os.environ, "ADVIESTRAJECT_DATABASE_URL": url}
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/health")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not come up")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def prepare(url: str, pupils: int) -> tuple[str, list[str]]:
    container = bootstrap(Settings(database_url=url))
    upgrade(container.engine)
    container.register.add_school(DEMO_SCHOOL)
    seed_demo_users(container.accounts)
    year = SchoolYear.containing(datetime.now(UTC).date())
    context = CommandContext(actor=Actor("bench", "beheer"))
    ids = []
    for k in range(pupils):
        pupil = uuid.uuid4()
        container.register.add_pupil(
            Pupil(str(pupil), DEMO_SCHOOL.id, f"Leerling{k}", f"Bench{k:04d}", DEMO_CLASS)
        )
        enrol = EnrolPupil(
            school_id=DEMO_SCHOOL.id, school_year=str(year), groep=8, enrolled_on=year.first_day
        )
        container.trajectories.execute_all(pupil, [enrol], context, expected_version=0)
        ids.append(str(pupil))
    token = container.accounts.issue_token(DEMO_TEACHER, "load", days=1).token
    container.close()
    return token, ids


def command(pupils: list[str], index: int, today: str) -> tuple[str, str]:
    """The index-th command: first every pupil's voorlopig advies, then corrections of it
    (havo <-> vwo, each a real change), so the load never runs out of commands."""
    pupil, round_ = pupils[index % len(pupils)], index // len(pupils)
    if round_ == 0:
        body = {"advice": "havo", "given_on": today}
        return f"/api/v1/pupils/{pupil}/provisional-advice", json.dumps(body)
    advice = "vwo" if round_ % 2 else "havo"
    body = {"advice": advice, "corrected_on": today, "reason": f"correctie {round_}"}
    return f"/api/v1/pupils/{pupil}/provisional-advice/corrections", json.dumps(body)


async def client(
    port: int,
    token: str,
    pupils: list[str],
    commands: itertools.count[int],
    stop_at: float,
    seed: int,
    results: list[tuple[str, int, float]],
    mix: tuple[float, float, float],
) -> None:
    """One simulated user: its own keep-alive connection, one request at a time."""
    rnd = random.Random(seed)
    reads, overviews = mix[0] / sum(mix), (mix[0] + mix[1]) / sum(mix)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    today = datetime.now(UTC).date().isoformat()
    while time.perf_counter() < stop_at:
        # A fresh connection now and then, as browsers and proxies do: with long-lived ones the
        # kernel's first choice of worker would decide the balance for the whole run.
        async with httpx2.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
        ) as http:
            for _ in range(REQUESTS_PER_CONNECTION):
                if time.perf_counter() >= stop_at:
                    break
                roll = rnd.random()
                body = None
                if roll < reads:
                    kind, method = "read", "GET"
                    path = f"/api/v1/pupils/{rnd.choice(pupils)}/trajectory"
                elif roll < overviews:
                    kind, method = "overview", "GET"
                    path = f"/api/v1/schools/{DEMO_SCHOOL.id}/pupils"
                else:
                    kind, method = "command", "POST"
                    path, body = command(pupils, next(commands), today)
                started = time.perf_counter()
                response = await http.request(method, path, content=body)
                results.append((kind, response.status_code, time.perf_counter() - started))


async def load(
    port: int,
    token: str,
    pupils: list[str],
    clients: int,
    seconds: float,
    mix: tuple[float, float, float],
) -> tuple[list[tuple[str, int, float]], float]:
    results: list[tuple[str, int, float]] = []
    commands = itertools.count()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client(port, token, pupils, commands, started + seconds, k, results, mix)
            for k in range(clients)
        )
    )
    return results, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--mix",
        default="80,10,10",
        help="weights of trajectory reads, class overviews and commands (e.g. 0,0,1: commands)",
    )
    args = parser.parse_args()
    weights = tuple(float(w) for w in args.mix.split(","))
    if len(weights) != 3 or sum(weights) <= 0:
        parser.error("--mix takes three weights, e.g. 80,10,10")
    mix = (weights[0], weights[1], weights[2])
    with database("postgres") as url:
        token, pupils = prepare(url, args.pupils)
        with serving(url, args.workers) as port:
            results, elapsed = asyncio.run(
                load(port, token, pupils, args.clients, args.seconds, mix)
            )
    by_kind: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for kind, status, seconds in results:
        by_kind[kind].append((status, seconds))
        by_kind["all"].append((status, seconds))
    for kind, rows in sorted(by_kind.items()):
        latencies = sorted(seconds for _, seconds in rows)
        print(
            json.dumps(
                {
                    "lib": "adviestraject",
                    "backend": "postgres",
                    "bench": f"http_{kind}",
                    "workers": args.workers,
                    "clients": args.clients,
                    "mix": args.mix,
                    "requests": len(rows),
                    "requests_per_s": round(len(rows) / elapsed, 1),
                    "p50_ms": round(statistics.median(latencies) * 1e3, 2),
                    "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1e3, 2),
                    "statuses": dict(Counter(status for status, _ in rows)),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
