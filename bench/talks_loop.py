"""One round of the worker's `talks` loop (`service.scheduling.loop.TalkRounds`) over many
unsettled talks, on PostgreSQL (or SQLite): the idle round every 30 s, and the round after one
school's publication changed.

Setup (not timed): a fresh database (`talks_loop_bench` on the server of
ADVIESTRAJECT_TEST_POSTGRES_URL or `--pg-url`, dropped and made anew; `--backend sqlite`: a file),
`--schools` schools with `--talks` heroverweging talks between them, as in the national March
on Friday 12 March 2027 09:00: each school's teacher published 15-23 March, 09:00-17:00; of the
talks ~80 % are proposed or accepted in that time (a fifth of those accepted), ~5 % have the
parents asking another time, ~15 % are requested and wait for a second teacher who has not
published yet (the planner cannot place them; nobody is warned, that teacher may still publish).
Nothing is due yet: no reminder (talks from Monday 15 March, two days before is Saturday), no
answer is late, no request is a working day old. The talks are written as the use cases write
them (the domain's events, the read-model row in the same unit of work), 500 talks a unit; one
`ANALYZE` afterwards (`--no-analyze` leaves it out). They are talks of the school's own round
(kind `round`, on the heroverweging's round key and days): the loop treats them as heroverweging
talks, but placing one does not also write a pupil's trajectory, which the bench does not make.

Timed, one round each with the clock standing still:
- `first`: the first round after the worker starts (it knows nothing yet);
- `idle` (`--idle` rounds, the median and max): nothing changed since the round before, the
  common case every 30 s;
- `one school published`: school 0's second teacher publishes, so its waiting requests can be
  planned (the planner runs for that school, invitations go out);
- `idle after`: the round after that.
Per round: seconds, SQL statements issued, rows they returned (by table; PostgreSQL reports the
rows of a SELECT, SQLite does not) and what the round did (its return value). One JSON line each.

Run: .venv/bin/python -m bench.talks_loop [--talks 2000 --schools 100 --backend postgres]

Measured 2026-12-01 01:35-01:59 UTC on a shared 2-core machine (load average 13-19 from other
engineers' test runs), PostgreSQL 127.0.0.1, the loop before (e586e1b: every round read every
unsettled talk, and every open school's availability stream and bookings) and after (63b9c3e:
the round follows the log), same command:
- 2,000 talks / 100 schools: idle round 1.0-1.5 s, 302 statements, 4,000 talk rows + 200 event
  rows -> 0.003-0.006 s, 1 statement, 0 rows; one school published 0.9-1.5 s, 256-356
  statements, ~4,080 talk rows -> 0.15-0.18 s, 58-59 statements, 100 talk rows; the round after
  it 1.1-1.8 s -> 0.01 s (4 statements). SQLite: idle 0.86 s, 202 statements -> 0.000 s, 1.
- 30,000 talks / 6,700 schools (`--talks 30000 --schools 6700 --idle 3`): idle round 25.6 s,
  11,042 statements, 39,800 talk rows + 8,870 event rows (nearly the 30 s the worker waits)
  -> 0.003 s, 1 statement; one school published 25.7 s -> 0.14 s (59 statements, 25 talk rows);
  the round after it 28.6 s -> 0.01 s.
Unchanged, in both: the first round after the worker starts (every open group planned once:
355 s before, 191 s after nationally, the machine's load varying; 7-10 s for 2,000 talks), and
the round after it (`idle max`: the schools whose talks the first round itself moved are planned
again, as their bookings changed: 74 s before, 42 s after nationally).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event

from bench.pages import fresh_database, settings_for
from service.bootstrap import Container, bootstrap
from service.projections import talks as rows
from service.scheduling import availability, sealing
from service.scheduling.loop import TalkRounds
from service.scheduling.requests import family_key
from service.shared.context import Actor, CommandContext
from service.store.driver import Driver
from service.store.events import NewEvent
from service.store.migrate import upgrade
from service.store.port import Append, UnitOfWork
from workflows.availability import CODEC as AVAILABILITY_CODEC
from workflows.availability import AvailabilityPublished, PublishedWindow
from workflows.codec import Event
from workflows.conversations import (
    AcceptTalk,
    AskOtherTime,
    InvitationKind,
    PlanTalk,
    RecordInvitation,
    RequestTalk,
    Talk,
    TalkCommand,
    TalkKind,
    decide_on_talk,
    evolve,
    talk_stream,
)

AMS = ZoneInfo("Europe/Amsterdam")
YEAR = "2026-2027"
NOW = datetime(2027, 3, 12, 9, 0, tzinfo=AMS)  # a Friday
REQUESTED_AT = datetime(2027, 3, 11, 10, 0, tzinfo=AMS)
PLANNED_AT = datetime(2027, 3, 11, 12, 0, tzinfo=AMS)
ANSWERED_AT = datetime(2027, 3, 11, 18, 0, tzinfo=AMS)
DAYS = [date(2027, 3, d) for d in (15, 16, 17, 18, 19, 22, 23)]
SLOTS_A_DAY = 16  # 30-minute talks from 09:00 to 17:00
PER_TEACHER = len(DAYS) * SLOTS_A_DAY
UNIT = 500
CONTEXT = CommandContext(actor=Actor("bench", "beheer"))


def pg_url_default() -> str:
    server = os.environ.get(
        "ADVIESTRAJECT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/x"
    )
    url = server.replace("postgresql://", "postgresql+psycopg://", 1)
    return url.rsplit("/", 1)[0] + "/talks_loop_bench"


def teacher(school: int, n: int) -> str:
    return f"t{n}-{school}"


def waiting(school: int) -> str:
    """The second teacher the waiting requests need, who has not published yet."""
    return f"w-{school}"


def school_id(school: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-school-{school}"))


def windows(days: list[date]) -> list[PublishedWindow]:
    return [
        PublishedWindow(
            datetime.combine(d, datetime.min.time().replace(hour=9), AMS),
            datetime.combine(d, datetime.min.time().replace(hour=17), AMS),
            "lokaal 8",
        )
        for d in days
    ]


def publication(person: str, days: list[date]) -> NewEvent:
    event = AvailabilityPublished(
        person=person,
        round_key="reconsideration",
        windows=tuple(windows(days)),
        room="lokaal 8",
    )
    event_type, version, data = AVAILABILITY_CODEC.encode(event)
    return NewEvent(event_type, version, data, {"actor": person, "role": "leerkracht"})


def slot(k: int) -> datetime:
    day, quarter = divmod(k % PER_TEACHER, SLOTS_A_DAY)
    return datetime.combine(DAYS[day], datetime.min.time().replace(hour=9), AMS) + timedelta(
        minutes=30 * quarter
    )


def one_talk(school: int, n: int, kind: str) -> tuple[str, Talk, list[Event]]:
    """The talk's id, state and events: `kind` is booked, other_time, accepted or waiting."""
    pupil = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-pupil-{school}-{n}"))
    parent = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-parent-{school}-{n}"))
    staff = waiting(school) if kind == "waiting" else teacher(school, n // PER_TEACHER)
    commands: list[tuple[datetime, TalkCommand]] = [
        (
            REQUESTED_AT,
            RequestTalk(
                kind=TalkKind.ROUND,
                pupil_id=pupil,
                school_id=school_id(school),
                school_year=YEAR,
                round_key="reconsideration",
                deadline=datetime(2027, 3, 25, tzinfo=AMS),
                latest_end=datetime(2027, 3, 24, tzinfo=AMS),
                minutes=30,
                staff=(staff,),
                family=family_key([f"ouder{school}-{n}@thuis.nl"], pupil),
                parents=(parent,),
            ),
        )
    ]
    if kind != "waiting":
        start = slot(n)
        commands += [
            (
                PLANNED_AT,
                PlanTalk(
                    start=start, end=start + timedelta(minutes=30), room="lokaal 8", staff=(staff,)
                ),
            ),
            (PLANNED_AT, RecordInvitation(parent_id=parent, kind=InvitationKind.INVITATION)),
        ]
    if kind == "accepted":
        commands.append((ANSWERED_AT, AcceptTalk(parent_id=parent)))
    if kind == "other_time":
        commands.append((ANSWERED_AT, AskOtherTime(parent_id=parent)))
    talk, events = Talk(), []
    for moment, command in commands:
        for new in decide_on_talk(talk, command, moment):
            talk = evolve(talk, new)
            events.append(new)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-talk-{school}-{n}")), talk, events


def kind_of(n: int) -> str:
    """~15 % waiting, 5 % other time asked, 16 % accepted, the rest proposed."""
    k = n % 20
    if k < 3:
        return "waiting"
    if k == 3:
        return "other_time"
    if k < 8:
        return "accepted"
    return "booked"


def generate(container: Container, schools: int, talks: int) -> None:
    units: list[tuple[list[Append], dict[str, Talk]]] = [([], {})]
    teachers = -(-max(1, talks // schools) // PER_TEACHER)
    for s in range(schools):
        people = [teacher(s, t) for t in range(teachers)]
        units[-1][0].append(
            Append(
                availability.stream(school_id(s)),
                0,
                [publication(person, DAYS) for person in people],
            )
        )
    n_of_school = Counter[int]()
    for i in range(talks):
        s = i % schools
        n = n_of_school[s]
        n_of_school[s] += 1
        talk_id, talk, events = one_talk(s, n, kind_of(n + s))
        appends, states = units[-1]
        new = sealing.encode(events, {"actor": "bench", "role": "beheer"}, lambda: b"")
        appends.append(Append(talk_stream(talk_id), 0, new))
        states[talk_id] = talk
        if len(states) >= UNIT:
            units.append(([], {}))
    for appends, states in units:
        if not appends:
            continue
        with container.store.session() as session:
            session.commit(UnitOfWork(NOW, appends, joined=[rows.joined(states)]))


class Counting:
    """SQL statements issued and rows returned, by the table after FROM: SQLAlchemy's
    statements through its cursor events, the store's driver layer (`Driver`, raw DBAPI
    cursors) by wrapping its reads and writes for the bench."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.rows: Counter[str] = Counter()
        event.listen(engine, "after_cursor_execute", self._after)
        self._wrap_driver()

    def _count(self, statement: str, found: int) -> None:
        self.statements += 1
        if found > 0 and statement.lstrip().upper().startswith("SELECT"):
            table = re.search(r"\bFROM\s+\(?\s*(\w+)", statement, re.IGNORECASE)
            self.rows[table.group(1) if table else "?"] += found

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self._count(statement, cursor.rowcount)

    def _wrap_driver(self) -> None:
        counting = self
        one, every, send = Driver.one, Driver.all, Driver._send

        def counted_one(driver: Driver, statement: str, params: Any = ()) -> Any:
            found = one(driver, statement, params)
            counting._count(statement, 1 if found is not None else 0)
            return found

        def counted_all(driver: Driver, statement: str, params: Any = ()) -> list[Any]:
            found = every(driver, statement, params)
            counting._count(statement, len(found))
            return found

        def counted_send(driver: Driver, statement: str, rows: Any) -> None:
            counting._count(statement, 0)
            send(driver, statement, rows)

        from service.store.postgres import PgDriver  # noqa: PLC0415 - psycopg, only here

        pipeline = PgDriver._send_all

        def counted_pipeline(driver: PgDriver, pending: Any) -> None:
            for statement, _ in pending:
                counting._count(statement, 0)
            pipeline(driver, pending)

        PgDriver._send_all = counted_pipeline  # type: ignore[method-assign]
        Driver.one = counted_one  # type: ignore[method-assign]
        Driver.all = counted_all  # type: ignore[method-assign]
        Driver._send = counted_send  # type: ignore[method-assign]

    @contextmanager
    def measuring(self) -> Iterator[dict[str, Any]]:
        self.statements, self.rows = 0, Counter()
        figures: dict[str, Any] = {}
        started = time.perf_counter()
        yield figures
        figures["seconds"] = round(time.perf_counter() - started, 3)
        figures["statements"] = self.statements
        figures["rows"] = dict(self.rows.most_common())


def timed_round(counting: Counting, step: Callable[[], int]) -> dict[str, Any]:
    with counting.measuring() as figures:
        figures["did"] = step()
    return figures


def show(item: str, figures: dict[str, Any]) -> None:
    rows_read = ", ".join(f"{t} {n}" for t, n in figures["rows"].items()) or "-"
    print(
        f"{item:22} {figures['seconds']:8.3f} s  {figures['statements']:6} statements  "
        f"did {figures['did']:4}  rows: {rows_read}"
    )
    print(json.dumps({"item": item, **figures}))


def run(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(args.backend, Path(tmp), args.pg_url) as url,
    ):
        container = bootstrap(settings_for(Path(tmp), url), clock=lambda: NOW)
        try:
            upgrade(container.engine)
            started = time.perf_counter()
            generate(container, args.schools, args.talks)
            if args.analyze and args.backend == "postgres":
                with container.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()
            with container.engine.connect() as conn:
                events = conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
            print(
                f"setup ({args.backend}): {args.talks} talks in {args.schools} schools, "
                f"{events} events, {time.perf_counter() - started:.1f} s"
            )
            counting = Counting(container.engine)
            step = TalkRounds(container.talks)
            show("first", timed_round(counting, step))
            idle = [timed_round(counting, step) for _ in range(args.idle)]
            seconds = [f["seconds"] for f in idle]
            show(
                f"idle (median of {args.idle})",
                {**idle[len(idle) // 2], "seconds": statistics.median(seconds)},
            )
            print(f"{'idle max':22} {max(seconds):8.3f} s")

            availability.publish(  # not timed: the round after it is
                container.store,
                container.clock,
                school_id(0),
                waiting(0),
                "reconsideration",
                windows(DAYS[1:4]),
                actor=waiting(0),
                actor_name="Tweede leerkracht",
                role="leerkracht",
            )
            show("one school published", timed_round(counting, step))
            show("idle after", timed_round(counting, step))
        finally:
            container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talks", type=int, default=2000)
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--idle", type=int, default=5, help="idle rounds timed")
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=pg_url_default())
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="leave the new database without planner statistics",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
