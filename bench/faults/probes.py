"""The fault probes of issue 12, each a function from an `Env` to a `Row` of figures.

Setup goes through the service's own edges only (the CLI and the HTTP API), so the probes keep
working while the store behind them is rewritten; reconciliation reads the tables directly.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2

from bench.faults.infra import (
    CONNECT_TIMEOUT,
    STATEMENT_TIMEOUT,
    Cleanup,
    PrivatePostgres,
    ProbeError,
    Service,
    SmallDisk,
    exceptions_in,
    port_answers,
    where_raised,
)
from bench.faults.load import (
    Attempt,
    Command,
    Ledger,
    Load,
    Traffic,
    burst,
    compact,
    is_2xx,
    is_5xx,
    label,
    reconcile,
    run_async,
    send_all,
    tally,
)
from service.intake.standard import example  # the standard's own example message
from workflows.calendar import SchoolYear

BRIN = "99ZZ"  # the demo school `seed-demo` adds
IB = "ib@faults.test"
PROVIDER = "toets@faults.test"
HEALTH_LIMIT = 45.0  # seconds after space is freed until /health must say 200 again


@dataclass
class Row:
    probe: str
    backend: str
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        if self.failures:
            return "FAIL"
        return "warn" if self.notes else "ok"


@dataclass
class Options:
    clients: int = 12
    # a request slower than this counts as a hang: the service's database timeouts plus slack
    hang_limit: float = CONNECT_TIMEOUT + STATEMENT_TIMEOUT + 3.0
    freeze_seconds: float = 14.0
    outage_seconds: float = 6.0
    recovery_limit: float = 20.0  # seconds after the database is back until a 2xx at the latest


class Env:
    """One backend's database with the demo school, an IB account and its token, and the
    service's processes; pupils are made on demand through the API."""

    def __init__(
        self,
        backend: str,
        root: Path,
        cleanup: Cleanup,
        options: Options,
        disk_mb: int = 0,
        url: str | None = None,
        in_process: bool = False,
    ) -> None:
        """A new private database for `backend`, or the (empty) database at `url`."""
        self.backend, self.options, self.cleanup = backend, options, cleanup
        self.pg: PrivatePostgres | None = None
        self.disk: SmallDisk | None = None
        if url is None and backend == "postgres":
            self.pg = PrivatePostgres(root / "pg", cleanup)
            url = self.pg.url
        elif url is None and disk_mb:
            self.disk = SmallDisk(root / "disk", disk_mb, cleanup)
            url = f"sqlite:///{self.disk.path / 'faults.db'}"
        elif url is None:
            (root / "sqlite").mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{root / 'sqlite' / 'faults.db'}"
        self.svc = Service(url, root / f"service-{backend}{'-disk' if disk_mb else ''}", cleanup)
        self.svc.in_process = in_process
        self.svc.must("migrate")
        self.svc.must("seed-demo")
        self.svc.must("user", "add", IB, "--name", "IB Fouten", "--role", "ib", "--school", BRIN)
        self.token = self.svc.must("user", "token", IB, "--name", "faults", "--days", "2").split()[
            0
        ]
        self.school_id = str(self.svc.scalar("SELECT id FROM schools WHERE brin = :b", b=BRIN))
        today = datetime.now(UTC).date()
        year = SchoolYear.containing(today)
        self.today, self.school_year = today.isoformat(), str(year)
        self.enrolled_on = year.first_day.isoformat()
        self._provider_token: str | None = None

    def ensure_server(self) -> None:
        if self.svc.server is None or self.svc.server.poll() is not None:
            self.svc.server = None
            self.svc.start_server(workers=2)

    # pupils, made through the API

    def enrolled(self, n: int, marker: str = "Setup") -> list[str]:
        self.ensure_server()
        commands = []
        for start in range(0, n, 250):
            rows = [
                {
                    "given_name": marker,
                    "family_name": f"Leerling {start + k:05d}",
                    "class_name": "8S",
                    "groep": 8,
                    "school_year": self.school_year,
                    "enrolled_on": self.enrolled_on,
                }
                for k in range(min(250, n - start))
            ]
            body = json.dumps({"pupils": rows}).encode()
            path = f"/api/v1/schools/{self.school_id}/pupils/bulk"
            commands.append(Command(uuid.uuid4().hex, "bulk", "POST", path, body))
        run_async(send_all(self.svc.base, self.token, commands, 2, give_up_after=60))
        pupils = []
        for command in commands:
            if command.answer is None:
                raise ProbeError(f"setup: bulk enrolment answered {command.final}")
            pupils += [row["pupil_id"] for row in command.answer["enrolled"]]
        return pupils

    def advised(self, n: int, advice: str = "havo/vwo") -> list[str]:
        pupils = self.enrolled(n)
        body = json.dumps({"advice": advice, "given_on": self.today}).encode()
        commands = [
            Command(
                uuid.uuid4().hex, "advice", "POST", f"/api/v1/pupils/{p}/provisional-advice", body
            )
            for p in pupils
        ]
        run_async(send_all(self.svc.base, self.token, commands, self.options.clients))
        refused = [c for c in commands if c.answer is None]
        if refused:
            raise ProbeError(
                f"setup: {len(refused)} voorlopige adviezen answered {refused[0].final}"
            )
        return pupils

    def traffic(self, pupils_per_client: int = 6) -> Traffic:
        clients = self.options.clients
        pupils = self.enrolled(clients * pupils_per_client)
        return Traffic(
            base=self.svc.base,
            token=self.token,
            school_id=self.school_id,
            school_year=self.school_year,
            enrolled_on=self.enrolled_on,
            today=self.today,
            pupils=[pupils[k::clients] for k in range(clients)],
        )

    # the chain: a test provider's system delivering results

    def provider_token(self) -> str:
        if self._provider_token is None:
            out = self.svc.must(
                "client", "add", PROVIDER, "--name", "Faults toets", "--school", BRIN
            )
            found = dict(
                line.split("=", 1) for line in out.splitlines() if line.startswith("client_")
            )
            self.ensure_server()
            answer = httpx2.post(
                f"{self.svc.base}/api/v1/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": found["client_id"],
                    "client_secret": found["client_secret"],
                },
                timeout=30,
            )
            if answer.status_code != 200:
                raise ProbeError(f"setup: the token exchange answered {answer.status_code}")
            self._provider_token = str(answer.json()["access_token"])
        return self._provider_token

    def route(self) -> str:
        listing = self.svc.must("school", "list")
        match = re.search(rf"^{BRIN}\s.*edu-to=(\w+) edu-from=(\w+)", listing, re.MULTILINE)
        if match is None:
            raise ProbeError(f"setup: {BRIN} has no chain routing: {listing.strip()}")
        return f"/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to={match[1]}&edu-from={match[2]}"

    def deliver(self, pupils: list[str], toetsadvies: str = "havo/vwo") -> list[Command]:
        path, token = self.route(), self.provider_token()
        commands = []
        for pupil in pupils:
            message: dict[str, Any] = example("/leerlingresultaat", "Leerlingresultaat")
            scores = message["resultatenscores"]
            scores["id"] = f"resultaat-{pupil}"
            scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": pupil}]
            scores["resultaten"]["resultaten"][0]["waarde"] = toetsadvies
            body = json.dumps(message).encode()
            commands.append(Command(uuid.uuid4().hex, "delivery", "POST", path, body, keyed=False))
        run_async(send_all(self.svc.base, token, commands, self.options.clients))
        refused = [c for c in commands if c.final != 202]
        if refused:
            raise ProbeError(f"setup: {len(refused)} deliveries answered {refused[0].final}")
        return commands

    def results_of(self, pupils: list[str]) -> Counter[str]:
        """test_result_received events per pupil."""
        found: Counter[str] = Counter()
        for start in range(0, len(pupils), 500):
            chunk = pupils[start : start + 500]
            names = ", ".join(f":s{k}" for k in range(len(chunk)))
            rows = self.svc.rows(
                "SELECT stream_id FROM events WHERE event_type = 'test_result_received' "
                f"AND stream_id IN ({names})",
                **{f"s{k}": f"trajectory-{p}" for k, p in enumerate(chunk)},
            )
            found.update(str(r[0]).removeprefix("trajectory-") for r in rows)
        return found

    def deliveries_by_state(self, after_id: int) -> Counter[str]:
        rows = self.svc.rows(
            "SELECT state, count(*) FROM result_deliveries WHERE id > :a GROUP BY state", a=after_id
        )
        return Counter({str(state): int(n) for state, n in rows})

    def last_delivery_id(self) -> int:
        return int(self.svc.scalar("SELECT coalesce(max(id), 0) FROM result_deliveries") or 0)


def _server_errors(env: Env, since: int, row: Row) -> None:
    """Name the exceptions behind 5xx answers, from the server's log, with where they surfaced."""
    found, _ = exceptions_in(env.svc.server_log, since)
    for exception, count in found.most_common(3):
        where = where_raised(env.svc.server_log, exception, since)
        row.failures.append(f"server log: {count}x {exception}" + (f" at {where}" if where else ""))


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _five_hundreds(ledger: Ledger) -> list[str]:
    found = Counter(
        f"{c.method} {re.sub(r'[0-9a-f-]{36}', '{id}', c.path)} -> {label(a)} {a.code or ''}"
        for c in ledger.commands
        for a in c.attempts
        if is_5xx(a) and not (a.status == 503 and a.retry_after)
    )
    return [f"{n}x {what}" for what, n in found.most_common(4)]


def _reconciled(env: Env, ledger: Ledger, row: Row) -> None:
    result = reconcile(env.svc, ledger)
    row.figures.update(result.figures())
    row.failures += result.problems()
    row.notes += result.notes()


# --- the server killed under load ---------------------------------------------------------


def serve_kill(env: Env) -> Row:
    """kill -9 `serve --workers 2` three times under load (the first time only the master),
    restart it each time; every acknowledged command stored once."""
    row = Row("serve-kill", env.backend)
    since = _log_size(env.svc.server_log)
    traffic = env.traffic()
    ledger = Ledger()
    load = Load(traffic, ledger, clients=env.options.clients).start()
    restarts = []
    try:
        time.sleep(5)
        for kill in range(1, 4):
            ledger.phase = f"kill{kill}"
            if kill == 1:
                env.svc.kill_server(master_only=True)
                time.sleep(2)
                held = port_answers(env.svc.port)
                row.figures["port_held_after_master_kill"] = held
                if held:
                    row.notes.append(
                        "kill -9 of the serve master leaves its workers holding the port "
                        "(a new serve cannot bind until they are killed)"
                    )
                env.svc.kill_leftovers()
            else:
                env.svc.kill_server()
            restarts.append(env.svc.start_server())
            ledger.phase = f"after{kill}"
            time.sleep(4)
    except BaseException:
        load.abort()
        raise
    load.stop()
    row.figures["kills"] = 3
    row.figures["restart_s"] = round(max(restarts), 1) if restarts else None
    row.figures["requests"] = len(ledger.attempts())
    row.figures["5xx"] = sum(is_5xx(a) for a in ledger.attempts())
    _reconciled(env, ledger, row)
    bad = _five_hundreds(ledger)
    if bad:
        row.failures += bad
        _server_errors(env, since, row)
    return row


# --- the worker and an import killed mid-batch ------------------------------------------------


def _wait(condition: Callable[[], bool], limit: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def worker_kill(env: Env, pupils_n: int = 1100) -> Row:
    """`adviestraject worker` killed with -9 right after its 1st and 2nd batch commit (500
    deliveries each, so the next batch is in flight), restarted; each result stored once."""
    row = Row("worker-kill", env.backend)
    env.svc.kill_worker()
    pupils = env.advised(pupils_n)
    before = env.last_delivery_id()
    env.deliver(pupils)

    def settled() -> int:
        return sum(n for s, n in env.deliveries_by_state(before).items() if s != "pending")

    at_kill = []
    for target in (500, 1000):
        worker = env.svc.start_worker()

        def reached(t: int = target, w: subprocess.Popen[bytes] = worker) -> bool:
            return settled() >= t or w.poll() is not None

        if not _wait(reached, 120):
            row.failures.append(f"the worker did not settle {target} deliveries within 120 s")
            break
        env.svc.kill_worker()
        at_kill.append(settled())
        time.sleep(0.5)
        if settled() != at_kill[-1]:
            row.failures.append("deliveries were settled after the worker was killed")
    worker = env.svc.start_worker()
    done = _wait(lambda: settled() >= len(pupils), 120, step=0.2)
    env.svc.kill_worker()
    states = env.deliveries_by_state(before)
    results = env.results_of(pupils)
    row.figures.update(
        {
            "kills": len(at_kill),
            "settled_at_kills": "/".join(map(str, at_kill)),
            "deliveries": len(pupils),
            "states": compact(states),
            "stored": sum(1 for p in pupils if results[p] == 1),
            "lost": sum(1 for p in pupils if results[p] == 0),
            "doubled": sum(1 for p in pupils if results[p] > 1),
        }
    )
    if not done:
        row.failures.append(f"not caught up after restart: {compact(states)}")
    elif states.get("processed", 0) != len(pupils):
        row.failures.append(f"deliveries not processed: {compact(states)}")
    if row.figures["lost"] or row.figures["doubled"]:
        row.failures.append(
            f"results: {row.figures['lost']} lost, {row.figures['doubled']} doubled"
        )
    return row


def import_kill(env: Env, pupils_n: int = 400) -> Row:
    """`import results` killed with -9 half-way through its transaction: nothing or everything
    is stored; run again it stores each result once; a third run changes nothing."""
    row = Row("import-kill", env.backend)
    pupils = env.advised(pupils_n)
    csv = env.svc.workdir / f"uitslagen-{uuid.uuid4().hex[:6]}.csv"
    csv.write_text("leerling;toetsadvies\n" + "".join(f"{p};havo/vwo\n" for p in pupils))
    args = ["import", "results", str(csv), "--school", BRIN, "--test", "IEP", "--as", IB]
    started = time.monotonic()
    dry = env.svc.cli(*args, "--dry-run")
    dry_s = time.monotonic() - started
    if dry.returncode != 0:
        raise ProbeError(f"import --dry-run: {dry.stderr.strip()[-300:]}")
    killed_at = []
    for fraction in (0.75, 0.6, 0.45):
        process = env.svc.popen(args, env.svc.workdir / "import.log")
        time.sleep(dry_s * fraction)
        if process.poll() is None:
            process.kill()
            process.wait()
            killed_at.append(round(dry_s * fraction, 2))
            break
    results = env.results_of(pupils)
    after_kill = sum(results.values())
    if not killed_at:
        row.notes.append("the import finished before it could be killed")
    elif after_kill not in (0, len(pupils)):
        row.failures.append(f"a killed import left {after_kill} of {len(pupils)} results")
    second = env.svc.cli(*args)
    third = env.svc.cli(*args)
    results = env.results_of(pupils)
    row.figures.update(
        {
            "rows": len(pupils),
            "killed_at_s": killed_at[0] if killed_at else None,
            "dry_run_s": round(dry_s, 2),
            "stored_after_kill": after_kill,
            "stored": sum(1 for p in pupils if results[p] == 1),
            "lost": sum(1 for p in pupils if results[p] == 0),
            "doubled": sum(1 for p in pupils if results[p] > 1),
            "rerun": third.stdout.strip()[:40],
        }
    )
    for name, run in (("second run", second), ("third run", third)):
        if run.returncode != 0:
            row.failures.append(f"import {name} exit {run.returncode}: {run.stderr.strip()[:200]}")
    if row.figures["lost"] or row.figures["doubled"]:
        row.failures.append(
            f"results: {row.figures['lost']} lost, {row.figures['doubled']} doubled"
        )
    return row


# --- PostgreSQL crashed, stopped, frozen, restarted ---------------------------------------


def _outage(
    env: Env, name: str, inject: Callable[[], Callable[[], float]], hold: float, deliveries: int
) -> Row:
    """Load, then the fault for `hold` seconds, then the database back; the API must answer
    503 + Retry-After meanwhile (no 500, no dropped connection, no hang) and 2xx again after,
    without a restart; the worker must live through it and process what arrives after."""
    row = Row(name, env.backend)
    options = env.options
    since = _log_size(env.svc.server_log)
    late_pupils = env.advised(deliveries) if deliveries else []
    traffic = env.traffic(4)
    worker = env.svc.worker
    if worker is None or worker.poll() is not None:
        worker = env.svc.start_worker()
    ledger = Ledger()
    load = Load(traffic, ledger, clients=options.clients).start()
    try:
        time.sleep(4)
        ledger.phase = "outage"
        recover = inject()
        time.sleep(2)
        health_during = _health(env)
        time.sleep(max(0.0, hold - 2))
        ledger.phase = "recovery"
        recover_s = recover()
        back = time.monotonic()
        ledger.phase = "after"
        time.sleep(10)
    except BaseException:
        load.abort()
        raise
    load.stop()
    during = ledger.attempts("outage") + ledger.attempts("recovery")
    after = ledger.attempts("after")
    late = [a for a in after if a.started >= back]
    first_2xx = min((a.started + a.seconds for a in late if is_2xx(a)), default=None)
    everything = ledger.attempts()
    hangs = [a for a in everything if a.seconds > options.hang_limit]
    dropped = [a for a in everything if not isinstance(a.status, int)]
    row.figures.update(
        {
            "during": compact(tally(during)),
            "after": compact(tally(after)),
            "5xx_not_503": sum(is_5xx(a) and a.status != 503 for a in everything),
            "max_s": round(max((a.seconds for a in during), default=0.0), 1),
            "db_back_s": round(recover_s, 1),
            "2xx_after_s": round(first_2xx - back, 1) if first_2xx else None,
        }
    )
    row.figures["health_during"] = health_during
    if health_during.startswith("200"):
        row.failures.append("/health answered 200 while the database was down")
    if not any(a.status == 503 and a.retry_after for a in during):
        row.failures.append("never 503 + Retry-After during the outage")
    bad = _five_hundreds(ledger)
    if bad:
        row.failures += bad
    if dropped:
        row.failures.append(f"{len(dropped)} requests without an answer: {compact(tally(dropped))}")
    if hangs:
        row.failures.append(
            f"{len(hangs)} requests took longer than {options.hang_limit:.0f} s "
            f"(longest {max(a.seconds for a in hangs):.1f} s)"
        )
    if first_2xx is None or first_2xx - back > options.recovery_limit:
        row.failures.append(
            f"no 2xx within {options.recovery_limit:.0f} s after the database was back"
        )
    if bad or dropped:
        _server_errors(env, since, row)
    _reconciled(env, ledger, row)
    # the worker: alive, and processing what arrives now
    if worker.poll() is not None:
        row.failures.append(f"the worker exited with {worker.returncode} during the outage")
        row.figures["worker"] = f"exit {worker.returncode}"
    else:
        row.figures["worker"] = "alive"
    if late_pupils:
        _caught_up(env, row, worker, late_pupils)
    return row


def _caught_up(env: Env, row: Row, worker: subprocess.Popen[bytes], pupils: list[str]) -> None:
    """New deliveries after the outage: the worker turns them into events within 30 s."""
    first = env.last_delivery_id()
    env.deliver(pupils)
    caught_up = worker.poll() is None and _wait(
        lambda: env.deliveries_by_state(first).get("pending", 0) == 0, 30, 0.2
    )
    states = env.deliveries_by_state(first)
    row.figures["late_deliveries"] = compact(states)
    if not caught_up:
        row.failures.append(
            f"the worker did not catch up within 30 s after the outage: {compact(states)}"
        )


def _health(env: Env) -> str:
    """/health's status (and Retry-After), or what went wrong asking."""
    try:
        answer = httpx2.get(f"{env.svc.base}/health", timeout=env.options.hang_limit)
    except httpx2.TimeoutException:
        return "timeout"
    except httpx2.TransportError as error:
        return type(error).__name__
    retry = answer.headers.get("retry-after")
    return f"{answer.status_code}{'+RA' if retry else ''}"


def _postgres(env: Env) -> PrivatePostgres:
    if env.pg is None:
        raise ProbeError("PostgreSQL probes need --backend postgres")
    return env.pg


def pg_crash(env: Env) -> Row:
    pg = _postgres(env)

    def inject() -> Callable[[], float]:
        pg.crash()
        return pg.start

    return _outage(env, "pg-crash", inject, env.options.outage_seconds, deliveries=100)


def pg_stop(env: Env) -> Row:
    pg = _postgres(env)

    def inject() -> Callable[[], float]:
        pg.stop("fast")
        return pg.start

    return _outage(env, "pg-stop", inject, env.options.outage_seconds, deliveries=0)


def pg_freeze(env: Env) -> Row:
    pg = _postgres(env)

    def inject() -> Callable[[], float]:
        frozen = pg.freeze()

        def thaw() -> float:
            pg.thaw(frozen)
            return 0.0

        return thaw

    return _outage(env, "pg-freeze", inject, env.options.freeze_seconds, deliveries=50)


def pg_restart(env: Env) -> Row:
    """A fast restart of PostgreSQL while the service is idle: the very first requests after
    it must not fail on stale pooled connections."""
    pg = _postgres(env)
    row = Row("pg-restart", env.backend)
    since = _log_size(env.svc.server_log)
    traffic = env.traffic(2)
    worker = env.svc.worker
    if worker is None or worker.poll() is not None:
        worker = env.svc.start_worker()
    rnd = random.Random(5)
    warm = [traffic.command(rnd, traffic.pupils[k % len(traffic.pupils)]) for k in range(48)]
    ledger = Ledger()
    ledger.phase = "warm"
    run_async(send_all(env.svc.base, env.token, warm, env.options.clients, ledger))
    time.sleep(3)  # idle: the pooled connections rest longer than the service pings after
    row.figures["restart_s"] = round(pg.restart("fast"), 1)
    ledger.phase = "after"
    first = [traffic.command(rnd, traffic.pupils[k % len(traffic.pupils)]) for k in range(24)]
    for command in first:
        ledger.add(command)
    run_async(burst(env.svc.base, env.token, first))
    answers = [c.attempts[0] for c in first]
    row.figures["first_after_restart"] = compact(tally(answers))
    failed = [a for a in answers if not is_2xx(a) and not (a.status == 503 and a.retry_after)]
    if failed:
        row.failures.append(
            f"{len(failed)} of the first {len(first)} requests after the restart failed: "
            f"{compact(tally(failed))}"
        )
        _server_errors(env, since, row)
    unavailable = [a for a in answers if a.status == 503]
    if unavailable:
        row.notes.append(f"{len(unavailable)} of the first requests answered 503 (stale pool?)")
    # the clients of a real service would retry: what they sent must be stored once
    run_async(send_all(env.svc.base, env.token, [c for c in first if c.answer is None], 4))
    _reconciled(env, ledger, row)
    row.figures["worker"] = "alive" if worker.poll() is None else f"exit {worker.returncode}"
    if worker.poll() is not None:
        row.failures.append(f"the worker exited with {worker.returncode} after the restart")
    return row


# --- races ---------------------------------------------------------------------------------


def race_bulk(env: Env, rounds: int = 3, senders: int = 6, size: int = 20) -> Row:
    """A bulk enrolment with one Idempotency-Key sent 6x at once: all answered without 5xx,
    one set of pupils in the register and in the log."""
    row = Row("race-bulk", env.backend)
    env.ensure_server()
    since = _log_size(env.svc.server_log)
    ledger = Ledger()
    register = log = 0
    sets = []
    for round_ in range(rounds):
        key = f"race-bulk-{uuid.uuid4().hex[:12]}"
        marker = f"Bulk{key[-6:]}"
        rows = [
            {
                "given_name": marker,
                "family_name": f"Race {k:02d}",
                "class_name": "8R",
                "groep": 8,
                "school_year": env.school_year,
                "enrolled_on": env.enrolled_on,
            }
            for k in range(size)
        ]
        body = json.dumps({"pupils": rows}).encode()
        path = f"/api/v1/schools/{env.school_id}/pupils/bulk"
        commands = [
            ledger.add(Command(uuid.uuid4().hex, "bulk", "POST", path, body, key=key))
            for _ in range(senders)
        ]
        run_async(burst(env.svc.base, env.token, commands))
        ids = {
            tuple(sorted(r["pupil_id"] for r in c.answer["enrolled"]))
            for c in commands
            if c.answer and "enrolled" in c.answer
        }
        sets.append(len(ids))
        found = [
            str(p) for (p,) in env.svc.rows("SELECT id FROM pupils WHERE given_name = :m", m=marker)
        ]
        register += len(found)
        if found:
            names = ", ".join(f":s{k}" for k in range(len(found)))
            log += int(
                env.svc.scalar(
                    "SELECT count(*) FROM events WHERE event_type = 'pupil_enrolled' "
                    f"AND stream_id IN ({names})",
                    **{f"s{k}": f"trajectory-{p}" for k, p in enumerate(found)},
                )
            )
        if len(found) != size:
            row.failures.append(f"round {round_ + 1}: {len(found)} register rows for {size} pupils")
    answers = ledger.attempts()
    row.figures.update(
        {
            "requests": len(answers),
            "answers": compact(tally(answers)),
            "pupil_sets": "/".join(map(str, sets)),
            "register": f"{register}/{rounds * size}",
            "enrolled_events": f"{log}/{rounds * size}",
        }
    )
    if any(is_5xx(a) for a in answers):
        row.failures += _five_hundreds(ledger)
        _server_errors(env, since, row)
    if any(n > 1 for n in sets):
        row.failures.append("the same key and body answered with different pupils")
    if log != rounds * size:
        row.failures.append(f"{log} enrolment events for {rounds * size} pupils")
    if not any(is_2xx(a) for a in answers):
        row.failures.append("no sender got a 2xx")
    return row


def race_first_key(env: Env, pupils_n: int = 3, senders: int = 60) -> Row:
    """The first free-text command for a pupil (its key is made then) raced 60x: no 5xx, every
    acknowledged one stored once."""
    row = Row("race-first-key", env.backend)
    since = _log_size(env.svc.server_log)
    pupils = env.enrolled(pupils_n, marker="Sleutel")
    ledger = Ledger()
    ledger.phase = "race"
    for pupil in pupils:
        commands = []
        for k in range(senders):
            body = {
                "held_on": env.today,
                "parents_saw_okr": True,
                "parents_view": f"Eerste vrije tekst {k}",
            }
            path = f"/api/v1/pupils/{pupil}/okr-conversation"
            commands.append(
                ledger.add(
                    Command(uuid.uuid4().hex, "okr", "POST", path, json.dumps(body).encode())
                )
            )
        run_async(burst(env.svc.base, env.token, commands))
    answers = ledger.attempts()
    row.figures.update({"requests": len(answers), "answers": compact(tally(answers))})
    conflicts = sum(a.status == 409 for a in answers)
    if conflicts:
        row.notes.append(
            f"{conflicts} of {len(answers)} answered 409 version_conflict although no If-Match "
            "was sent (the losers of the race must retry themselves)"
        )
    if any(is_5xx(a) for a in answers):
        row.failures += _five_hundreds(ledger)
        _server_errors(env, since, row)
    _reconciled(env, ledger, row)
    return row


# --- a full disk (SQLite) -----------------------------------------------------------------


def _pupils_csv(path: Path, first: int, n: int) -> None:
    lines = ["Leerlingnummer;Roepnaam;Achternaam;Groep;Klas"]
    lines += [f"{first + k};Vol;Schijf {first + k};8;8D" for k in range(n)]
    path.write_text("\n".join(lines) + "\n")


def _integrity(env: Env) -> str:
    if env.disk is None:
        raise ProbeError("not on a small disk")
    database = env.disk.path / "faults.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _writes(traffic: Traffic, rnd: random.Random, n: int, ledger: Ledger) -> list[Command]:
    writes: list[Command] = []
    while len(writes) < n:
        command = traffic.command(rnd, traffic.pupils[len(writes) % len(traffic.pupils)])
        if command.write:
            writes.append(ledger.add(command))
    return writes


def disk_full(env: Env) -> Row:
    """SQLite on a small tmpfs, filled up: clear non-500 errors, /health not 'ok', `import
    pupils` exits 2 with one line, nothing stored is damaged; space again -> works again."""
    row = Row("disk-full", env.backend)
    if env.disk is None:
        raise ProbeError("disk-full needs an Env on a small disk")
    svc = env.svc
    since = _log_size(svc.server_log)
    traffic = env.traffic(2)
    before = (
        int(svc.scalar("SELECT count(*) FROM events")),
        int(svc.scalar("SELECT count(*) FROM pupils")),
    )
    svc.engine().dispose()  # the probe's own connection holds nothing open while full
    row.figures["filled_mb"] = round(env.disk.fill() / 2**20, 1)
    ledger = Ledger()
    ledger.phase = "full"
    rnd = random.Random(9)
    writes = _writes(traffic, rnd, 20, ledger)
    run_async(send_all(svc.base, env.token, writes, 4, ledger, give_up_after=0))
    csv = svc.workdir / "leerlingen-vol.csv"
    _pupils_csv(csv, 7000, 40)
    _while_full(env, row, ledger.attempts("full"), csv)
    # space again: the same server works without a restart
    env.disk.free()
    ledger.phase = "freed"
    again = _writes(traffic, rnd, 10, ledger)
    run_async(send_all(svc.base, env.token, again, 4, ledger, give_up_after=15))
    refused = [c for c in writes if c.answer is None]  # may be sent again now
    run_async(send_all(svc.base, env.token, refused, 4, ledger, give_up_after=15))
    _after_freeing(env, row, again, csv)
    after = (
        int(svc.scalar("SELECT count(*) FROM events")),
        int(svc.scalar("SELECT count(*) FROM pupils")),
    )
    if after[0] < before[0] or after[1] < before[1]:
        row.failures.append(f"rows disappeared: events, pupils {before} -> {after}")
    _reconciled(env, ledger, row)
    if any(a.status == 500 for a in ledger.attempts()):
        _server_errors(env, since, row)
    return row


def _while_full(env: Env, row: Row, answers: list[Attempt], csv: Path) -> None:
    svc = env.svc
    row.figures["writes_full"] = compact(tally(answers))
    codes = Counter(str(a.code) for a in answers if not is_2xx(a))
    row.figures["codes"] = compact(codes)
    health = httpx2.get(f"{svc.base}/health", timeout=10)
    is_json = health.headers.get("content-type", "").endswith("json")
    status = health.json().get("status") if is_json else None
    row.figures["health_full"] = f"{health.status_code} {status or ''}".strip()
    imported = svc.cli("import", "pupils", str(csv), "--school", BRIN, "--as", IB)
    stderr_lines = [line for line in imported.stderr.splitlines() if line.strip()]
    row.figures["import_full"] = f"exit {imported.returncode}, {len(stderr_lines)} line(s)"
    verified = svc.cli("verify")
    integrity = _integrity(env)
    row.figures["integrity_full"] = f"{integrity}, verify exit {verified.returncode}"
    fives = [a for a in answers if a.status == 500]
    if fives:
        row.failures.append(f"{len(fives)} of {len(answers)} writes on a full disk answered 500")
    if any(not is_2xx(a) and not a.code for a in answers if isinstance(a.status, int)):
        row.failures.append("an error on a full disk without a problem+json code")
    if any(not isinstance(a.status, int) for a in answers):
        row.failures.append(f"dropped connections on a full disk: {compact(tally(answers))}")
    if health.status_code == 200:
        row.failures.append("/health answers 200 while the disk is full")
    if imported.returncode != 2 or len(stderr_lines) != 1:
        last = stderr_lines[-1][:120] if stderr_lines else ""
        row.failures.append(
            f"import pupils on a full disk: exit {imported.returncode} with "
            f"{len(stderr_lines)} stderr lines (want exit 2, one line); last: {last}"
        )
    if integrity != "ok" or verified.returncode != 0:
        row.failures.append(
            f"stored data damaged: integrity {integrity}, verify {verified.returncode}"
        )


def _after_freeing(env: Env, row: Row, again: list[Command], csv: Path) -> None:
    svc = env.svc
    row.figures["writes_freed"] = compact(tally([c.attempts[-1] for c in again]))
    freed = time.monotonic()
    health = httpx2.get(f"{svc.base}/health", timeout=10)
    while health.status_code != 200 and time.monotonic() - freed < HEALTH_LIMIT:
        time.sleep(1)
        health = httpx2.get(f"{svc.base}/health", timeout=10)
    waited = time.monotonic() - freed
    row.figures["health_freed"] = f"{health.status_code} after {waited:.0f} s"
    if health.status_code == 200 and waited > 2:
        row.notes.append(
            f"/health stayed 503 for {waited:.0f} s after space was freed, while writes "
            "already succeeded"
        )
    imported = svc.cli("import", "pupils", str(csv), "--school", BRIN, "--as", IB)
    row.figures["import_freed"] = f"exit {imported.returncode}"
    if not all(c.answer is not None for c in again):
        row.failures.append(f"writes after freeing space: {row.figures['writes_freed']}")
    if health.status_code != 200:
        row.failures.append(
            f"/health after freeing space: {health.status_code} for {HEALTH_LIMIT:.0f} s"
        )
    if imported.returncode != 0:
        row.failures.append(f"import pupils after freeing space: exit {imported.returncode}")


PROBES: dict[str, tuple[Callable[[Env], Row], tuple[str, ...]]] = {
    "serve-kill": (serve_kill, ("postgres", "sqlite")),
    "worker-kill": (worker_kill, ("postgres", "sqlite")),
    "import-kill": (import_kill, ("postgres", "sqlite")),
    "pg-crash": (pg_crash, ("postgres",)),
    "pg-stop": (pg_stop, ("postgres",)),
    "pg-freeze": (pg_freeze, ("postgres",)),
    "pg-restart": (pg_restart, ("postgres",)),
    "race-bulk": (race_bulk, ("postgres", "sqlite")),
    "race-first-key": (race_first_key, ("postgres", "sqlite")),
    "disk-full": (disk_full, ("sqlite",)),
}
