"""The anchors' workload (shared/bench/) through adviestraject's own domain and store.

a. write: N pupils x 5 events, one transaction per pupil (decide + append + read model + outbox);
b. read: rehydrate R random pupils (read stream, decode, fold);
c. command: load a pupil, decide one new event, append it; median and p99 over C commands;
d. projection: read the whole log in global order in pages, decode the events that carry an
   advice, build {pupil: level};
   also `d_rebuild`: rebuild the `trajectories` read model from the log;
e. concurrency: W writer processes on the same 100 pupils, retrying on version conflicts;
f. bulk: N more pupils x 5 events appended 1,000 pupils per transaction (as an import does;
   the domain's decisions are made before the clock starts, encoding and chaining are timed).

One JSON line per measurement, with the anchors' keys and `lib: "adviestraject"`.
Run: .venv/bin/python -m bench.store --backend postgres|sqlite-file [--n 20000]
PostgreSQL from PGHOST/PGPORT/PGUSER/PGDATABASE (default 127.0.0.1:5432, postgres, bench); each
run works in a fresh schema it drops afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.advice.trajectories import Actor, CommandContext, decode, trajectory_stream
from service.bootstrap import Container, bootstrap
from service.gcpause import paused_gc
from service.projections.rebuild import rebuild_trajectories
from service.settings import Settings
from service.store.events import ConcurrencyError, NewEvent
from service.store.migrate import upgrade
from service.store.port import Append, UnitOfWork
from service.store.sql import read_facts
from workflows import commands as c
from workflows.codec import Event
from workflows.decide import decide_on
from workflows.enums import AdviceKind
from workflows.events import CODEC
from workflows.scale import SchoolAdvice, TestAdvice
from workflows.trajectory import Trajectory, fold

NOW = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
ADVICES = [SchoolAdvice.VMBO_KB, SchoolAdvice.VMBO_GLTL, SchoolAdvice.HAVO, SchoolAdvice.VWO]
CONTEXT = CommandContext(actor=Actor("bench", "leerkracht"))


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))]


def pupil_commands(rnd: random.Random) -> list[c.Command]:
    """Five events: enrolled, voorlopig advies, OKR-gesprek, toets result and what follows."""
    return [
        c.EnrolPupil(
            school_id=f"school-{rnd.randrange(250):03d}",
            school_year="2025-2026",
            groep=8,
            enrolled_on=date(2025, 8, 25),
        ),
        c.GiveProvisionalAdvice(advice=rnd.choice(ADVICES), given_on=date(2026, 1, 20)),
        c.RecordOkrConversation(held_on=date(2026, 2, 2), parents_saw_okr=True),
        c.ReceiveTestResult(
            provider="IEP",
            delivery_id=str(rnd.random()),
            test_advice=rnd.choice(list(TestAdvice)),
            received_on=date(2026, 3, 11),
        ),
    ]


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite-file":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    user = os.environ.get("PGUSER", "postgres")
    host, port = os.environ.get("PGHOST", "127.0.0.1"), os.environ.get("PGPORT", "5432")
    name = os.environ.get("PGDATABASE", "bench")
    server = f"postgresql+psycopg://{user}@{host}:{port}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    schema = f"bench_{os.getpid()}"
    owner = create_engine(f"{server}/{name}", isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(f"{server}/{name}").update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with owner.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        owner.dispose()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def conc_worker(url: str, ids: list[str], commits: int, seed: int, barrier: Any, q: Any) -> None:
    container = bootstrap(Settings(database_url=url), clock=lambda: NOW)
    rnd = random.Random(seed)
    done = conflicts = 0
    latencies: list[float] = []
    command = c.RecordNationalRegistration(kind=AdviceKind.PROVISIONAL, sent_on=date(2026, 1, 25))
    barrier.wait()
    t0 = time.perf_counter()
    while done < commits:
        pupil = uuid.UUID(rnd.choice(ids))
        started = time.perf_counter()
        while True:
            try:
                container.trajectories.execute(pupil, command, CONTEXT)
                break
            except ConcurrencyError:
                conflicts += 1
        latencies.append(time.perf_counter() - started)
        done += 1
    t1 = time.perf_counter()
    container.close()
    q.put({"commits": done, "conflicts": conflicts, "t0": t0, "t1": t1, "lat": latencies})


def run(args: argparse.Namespace, url: str) -> None:
    base = {"lib": "adviestraject", "backend": args.backend, "run": args.run}
    container: Container = bootstrap(Settings(database_url=url), clock=lambda: NOW)
    upgrade(container.engine)
    rnd = random.Random(args.seed)
    trajectories = container.trajectories

    ids: list[uuid.UUID] = []
    plans = [pupil_commands(rnd) for _ in range(args.n)]

    def write() -> None:
        for commands in plans:
            pupil = uuid.uuid4()
            trajectories.execute_all(pupil, commands, CONTEXT, expected_version=0)
            ids.append(pupil)

    seconds, _ = timed(write)
    emit(
        base
        | {
            "bench": "a_write",
            "aggregates": args.n,
            "events": 5 * args.n,
            "seconds": round(seconds, 3),
            "aggregates_per_s": round(args.n / seconds, 1),
            "events_per_s": round(5 * args.n / seconds, 1),
        }
    )

    sample = [rnd.choice(ids) for _ in range(args.reads)]

    def read() -> None:
        for pupil in sample:
            if trajectories.load(pupil).version != 5:
                raise AssertionError("a pupil lost events")

    seconds, _ = timed(read)
    emit(
        base
        | {
            "bench": "b_read",
            "aggregates": args.reads,
            "seconds": round(seconds, 3),
            "aggregates_per_s": round(args.reads / seconds, 1),
            "events_per_s": round(5 * args.reads / seconds, 1),
        }
    )

    command = c.RecordNationalRegistration(kind=AdviceKind.PROVISIONAL, sent_on=date(2026, 1, 25))
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(args.cmds):
        t0 = time.perf_counter()
        trajectories.execute(rnd.choice(ids), command, CONTEXT)
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    emit(
        base
        | {
            "bench": "c_command",
            "ops": args.cmds,
            "ops_per_s": round(args.cmds / seconds, 1),
            "median_ms": round(statistics.median(latencies) * 1e3, 3),
            "p99_ms": round(pct(latencies, 99) * 1e3, 3),
            "mean_ms": round(statistics.fmean(latencies) * 1e3, 3),
            "max_ms": round(max(latencies) * 1e3, 3),
        }
    )

    # A projection names the event types it reads: only those are decoded.
    level_types = frozenset(
        cls.event_type for cls in CODEC.event_classes if "advice" in cls.__dataclass_fields__
    )

    def project() -> int:
        levels: dict[str, str] = {}
        count, after = 0, 0
        with container.engine.connect() as conn:
            while page := read_facts(conn, after, args.page):
                count += len(page)
                for fact in page:
                    if fact.event_type in level_types:
                        advice = getattr(decode(fact), "advice", None)
                        if advice is not None:
                            levels[fact.stream_id] = advice.value
                after = page[-1].position
        if len(levels) != args.n:
            raise AssertionError((len(levels), args.n))
        return count

    seconds, count = timed(project)
    emit(
        base
        | {
            "bench": "d_projection",
            "events": count,
            "page": args.page,
            "seconds": round(seconds, 3),
            "events_per_s": round(count / seconds, 1),
        }
    )
    seconds, pupils = timed(lambda: rebuild_trajectories(container.engine, page=args.page))
    emit(
        base
        | {
            "bench": "d_rebuild",
            "events": count,
            "pupils": pupils,
            "seconds": round(seconds, 3),
            "events_per_s": round(count / seconds, 1),
        }
    )

    ctx = mp.get_context("spawn")
    barrier, q = ctx.Barrier(args.writers), ctx.Queue()
    conc_ids = [str(x) for x in ids[: args.conc_aggs]]
    processes = [
        ctx.Process(
            target=conc_worker,
            args=(url, conc_ids, args.conc_commits, args.seed + 1000 + k, barrier, q),
        )
        for k in range(args.writers)
    ]
    for process in processes:
        process.start()
    results = [q.get() for _ in processes]
    for process in processes:
        process.join()
    commits = sum(r["commits"] for r in results)
    conflicts = sum(r["conflicts"] for r in results)
    seconds = max(r["t1"] for r in results) - min(r["t0"] for r in results)
    all_latencies = [x for r in results for x in r["lat"]]
    emit(
        base
        | {
            "bench": "e_concurrency",
            "writers": args.writers,
            "aggregates": args.conc_aggs,
            "commits": commits,
            "conflicts": conflicts,
            "seconds": round(seconds, 3),
            "commits_per_s": round(commits / seconds, 1),
            "cmd_median_ms": round(statistics.median(all_latencies) * 1e3, 3),
            "cmd_p99_ms": round(pct(all_latencies, 99) * 1e3, 3),
        }
    )

    batches = bulk_batches(args, rnd)
    seconds, appended = timed(lambda: bulk_append(container, batches, args.bulk_batch))
    emit(
        base
        | {
            "bench": "f_bulk",
            "events": appended,
            "pupils_per_tx": args.bulk_batch,
            "seconds": round(seconds, 3),
            "events_per_s": round(appended / seconds, 1),
        }
    )
    container.close()


def bulk_batches(args: argparse.Namespace, rnd: random.Random) -> list[tuple[str, list[Event]]]:
    batches = []
    for _ in range(args.n):
        state, events = Trajectory(), []
        for command in pupil_commands(rnd):
            decided = decide_on(state, command, NOW)
            events += decided
            state = fold(decided, start=state)
        batches.append((trajectory_stream(uuid.uuid4()), events))
    return batches


def bulk_append(container: Container, batches: list[tuple[str, list[Event]]], per_tx: int) -> int:
    appended = 0
    metadata = CONTEXT.metadata()
    with paused_gc():  # as an import runs (service.gcpause): many objects, no cycles
        for start in range(0, len(batches), per_tx):
            chunk = batches[start : start + per_tx]
            unit = UnitOfWork(
                NOW,
                [
                    Append(stream, 0, [NewEvent(*CODEC.encode(e), metadata) for e in events])
                    for stream, events in chunk
                ],
            )
            with container.store.session(exclusive=True) as session:
                stored = session.commit(unit)
            appended += len(stored)
    return appended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", required=True, choices=["sqlite-file", "postgres"])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--cmds", type=int, default=2000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--conc-aggs", type=int, default=100)
    parser.add_argument("--conc-commits", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--bulk-batch", type=int, default=1000)
    parser.add_argument("--run", default="1")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with database(args.backend) as url:
        run(args, url)


if __name__ == "__main__":
    main()
