"""The probes' HTTP traffic and its reconciliation against the store.

Every write is a `Command` with its own id, sent as both `X-Request-ID` and `Idempotency-Key`
on every attempt, so the events it stored carry that id in their metadata (`request_id`) and a
retry after a lost answer cannot store it twice. A client retries a command on a dropped
connection, a timeout or a 5xx (honouring `Retry-After`, capped) until it gets an answer or the
command's time is up; every attempt is recorded with the phase of the probe it fell in.
Reconciliation reads the events back by request id: acknowledged, stored, lost, doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from bench.faults.infra import Service

GIVE_UP_AFTER = 75.0  # seconds one command is retried before the client gives up on it
RETRY_CAP = 1.0  # seconds at most between retries, whatever Retry-After says
REQUEST_TIMEOUT = 25.0  # the client's own limit per request: longer than any fault lasts
REQUESTS_PER_CONNECTION = 50


@dataclass
class Attempt:
    phase: str
    status: int | str  # the HTTP status, or the transport error's name
    seconds: float
    started: float  # time.monotonic()
    retry_after: str | None = None
    code: str | None = None  # problem+json code, if any


@dataclass
class Command:
    id: str
    kind: str  # okr, enrol, read, advice, delivery, bulk, ...
    method: str
    path: str
    body: bytes | None = None
    content_type: str = "application/json"
    keyed: bool = True  # sends Idempotency-Key: `key`, or else the command's id
    key: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict[str, Any] | None = None  # the 2xx body
    final: int | str | None = None

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None

    def expected_events(self) -> int:
        if self.answer is None:
            return 0
        types = self.answer.get("event_types")
        return len(types) if isinstance(types, list) else 1


class Ledger:
    """Every command and attempt of a probe, and the phase the probe is in."""

    def __init__(self) -> None:
        self.phase = "before"
        self.commands: list[Command] = []
        self._ids: set[str] = set()
        self.lock = threading.Lock()

    def add(self, command: Command) -> Command:
        """Keep the command (once, however often it is handed in)."""
        with self.lock:
            if command.id not in self._ids:
                self._ids.add(command.id)
                self.commands.append(command)
        return command

    def attempts(self, phase: str | None = None) -> list[Attempt]:
        return [a for c in self.commands for a in c.attempts if phase is None or a.phase == phase]


def label(attempt: Attempt) -> str:
    """A status as the figures show it: 201, 409, 503+RA, 503, ConnectError, timeout."""
    if isinstance(attempt.status, int) and attempt.status == 503:
        return "503+RA" if attempt.retry_after else "503"
    return str(attempt.status)


def tally(attempts: list[Attempt]) -> Counter[str]:
    return Counter(label(a) for a in attempts)


def compact(counts: Counter[str]) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items())) or "-"


def is_5xx(attempt: Attempt) -> bool:
    return isinstance(attempt.status, int) and attempt.status >= 500


def is_2xx(attempt: Attempt) -> bool:
    return isinstance(attempt.status, int) and 200 <= attempt.status < 300


class Http:
    """One simulated user's keep-alive connection (renewed every so many requests)."""

    def __init__(self, base: str, token: str, timeout: float = REQUEST_TIMEOUT) -> None:
        self.base, self.token, self.timeout = base, token, timeout
        self.client: httpx2.AsyncClient | None = None
        self.used = 0

    async def _client(self) -> httpx2.AsyncClient:
        if self.client is None or self.used >= REQUESTS_PER_CONNECTION:
            if self.client is not None:
                await self.client.aclose()
            self.client = httpx2.AsyncClient(
                base_url=self.base,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
            self.used = 0
        self.used += 1
        return self.client

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def once(self, command: Command, phase: Callable[[], str]) -> Attempt:
        headers = {"X-Request-ID": command.id, "Content-Type": command.content_type}
        if command.keyed and command.write:
            headers["Idempotency-Key"] = command.key or command.id
        started = time.monotonic()
        in_phase = phase()
        try:
            client = await self._client()
            response = await client.request(
                command.method, command.path, content=command.body, headers=headers
            )
        except httpx2.TimeoutException:
            await self.close()
            attempt = Attempt(in_phase, "timeout", time.monotonic() - started, started)
        except httpx2.TransportError as error:
            await self.close()
            attempt = Attempt(in_phase, type(error).__name__, time.monotonic() - started, started)
        else:
            attempt = Attempt(
                in_phase,
                response.status_code,
                time.monotonic() - started,
                started,
                retry_after=response.headers.get("retry-after"),
            )
            body: Any = None
            if response.headers.get("content-type", "").endswith("json"):
                try:
                    body = response.json()
                except ValueError:
                    body = None
            if isinstance(body, dict):
                attempt.code = body.get("code") if isinstance(body.get("code"), str) else None
                if 200 <= response.status_code < 300:
                    command.answer = body
            elif 200 <= response.status_code < 300:
                command.answer = {}
        command.attempts.append(attempt)
        command.final = attempt.status
        return attempt

    async def until_answered(
        self,
        command: Command,
        phase: Callable[[], str],
        give_up_after: float = GIVE_UP_AFTER,
        abort: threading.Event | None = None,
    ) -> None:
        """Send, and again on a dropped connection, a timeout, a 5xx or a 429, until an answer
        or the command's time is up."""
        give_up_at = time.monotonic() + give_up_after
        while True:
            attempt = await self.once(command, phase)
            retry = not isinstance(attempt.status, int) or attempt.status >= 500
            retry = retry or attempt.status == 429
            if not retry or time.monotonic() >= give_up_at or (abort and abort.is_set()):
                return
            wait = 0.2
            if attempt.retry_after:
                with contextlib.suppress(ValueError):
                    wait = max(wait, float(attempt.retry_after))
            await asyncio.sleep(min(wait, RETRY_CAP))


def run_async(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def send_all(
    base: str,
    token: str,
    commands: list[Command],
    concurrency: int,
    ledger: Ledger | None = None,
    give_up_after: float = GIVE_UP_AFTER,
) -> list[Command]:
    """Send the commands with `concurrency` users, each until answered; for setup and races."""
    queue = list(reversed(commands))
    phase = (lambda: ledger.phase) if ledger else (lambda: "setup")

    async def user() -> None:
        http = Http(base, token)
        try:
            while queue:
                command = queue.pop()
                if ledger is not None:
                    ledger.add(command)
                await http.until_answered(command, phase, give_up_after)
        finally:
            await http.close()

    await asyncio.gather(*(user() for _ in range(concurrency)))
    return commands


async def burst(base: str, token: str, commands: list[Command]) -> list[Command]:
    """Every command at the same moment, each on its own connection (a race)."""
    clients = [Http(base, token) for _ in commands]
    try:

        async def connect(http: Http) -> None:  # first, so that the requests leave together
            client = await http._client()
            http.used = 0
            await client.get("/health")

        await asyncio.gather(*(connect(http) for http in clients))
        gate = asyncio.Event()

        async def one(http: Http, command: Command) -> None:
            await gate.wait()
            await http.once(command, lambda: "race")

        tasks = [asyncio.create_task(one(h, c)) for h, c in zip(clients, commands, strict=True)]
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(*tasks)
    finally:
        for http in clients:
            await http.close()
    return commands


# --- the mixed load of the kill and outage probes ---------------------------------------------


@dataclass
class Traffic:
    """What the load clients send: OKR-gesprekken with the parents' view (free text, sealed per
    pupil) for the pupils each client owns, enrolments of new pupils (register + event), and
    trajectory reads."""

    base: str
    token: str
    school_id: str
    school_year: str
    enrolled_on: str
    today: str
    pupils: list[list[str]]  # per client, the pupils only it writes to
    weights: tuple[float, float, float] = (0.5, 0.2, 0.3)  # okr, enrol, read
    marker: str = "Fout"

    def command(self, rnd: random.Random, mine: list[str]) -> Command:
        command_id = uuid.uuid4().hex
        roll = rnd.random() * sum(self.weights)
        okr, enrol = self.weights[0], self.weights[0] + self.weights[1]
        if roll < okr:
            body = {
                "held_on": self.today,
                "parents_saw_okr": True,
                "parents_view": f"Ouders zijn het eens met het rapport ({command_id[:8]}).",
            }
            return Command(
                command_id,
                "okr",
                "POST",
                f"/api/v1/pupils/{rnd.choice(mine)}/okr-conversation",
                json.dumps(body).encode(),
            )
        if roll < enrol:
            body = {
                "given_name": self.marker,
                "family_name": f"Probe {command_id[:10]}",
                "class_name": "8F",
                "groep": 8,
                "school_year": self.school_year,
                "enrolled_on": self.enrolled_on,
            }
            return Command(
                command_id,
                "enrol",
                "POST",
                f"/api/v1/schools/{self.school_id}/pupils",
                json.dumps(body).encode(),
            )
        return Command(command_id, "read", "GET", f"/api/v1/pupils/{rnd.choice(mine)}/trajectory")


class Load:
    """`clients` users sending `Traffic` on a background thread until `stop()`; each finishes
    (answers or gives up on) the command it is on. Bounded: at most `max_commands` per client."""

    def __init__(
        self,
        traffic: Traffic,
        ledger: Ledger,
        clients: int = 12,
        max_commands: int = 5000,
        seed: int = 12,
    ) -> None:
        self.traffic, self.ledger = traffic, ledger
        self.clients, self.max_commands, self.seed = clients, max_commands, seed
        self.stopping = threading.Event()
        self.aborting = threading.Event()
        self.thread = threading.Thread(target=self._run, name="load", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> Load:
        self.thread.start()
        return self

    def stop(self, wait: float = GIVE_UP_AFTER + REQUEST_TIMEOUT + 5) -> None:
        self.stopping.set()
        self.thread.join(timeout=wait)
        if self.thread.is_alive():
            self.aborting.set()
            self.thread.join(timeout=REQUEST_TIMEOUT + 5)
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Stop at once (the probe is failing or interrupted): no command is finished."""
        self.stopping.set()
        self.aborting.set()
        self.thread.join(timeout=2)

    def _run(self) -> None:
        try:
            asyncio.run(self._all())
        except BaseException as error:
            self.error = error

    async def _all(self) -> None:
        await asyncio.gather(*(self._client(k) for k in range(self.clients)))

    async def _client(self, k: int) -> None:
        rnd = random.Random(self.seed * 1000 + k)
        mine = self.traffic.pupils[k % len(self.traffic.pupils)]
        http = Http(self.traffic.base, self.traffic.token)
        try:
            for _ in range(self.max_commands):
                if self.stopping.is_set():
                    break
                command = self.ledger.add(self.traffic.command(rnd, mine))
                await http.until_answered(command, lambda: self.ledger.phase, abort=self.aborting)
                if not isinstance(command.final, int):
                    await asyncio.sleep(0.05)
        finally:
            await http.close()


# --- reconciliation ---------------------------------------------------------------------------


def stored_by_request(service: Service) -> Counter[str]:
    """How many events carry each request id in their metadata."""
    found: Counter[str] = Counter()
    for (meta,) in service.rows("SELECT metadata FROM events"):
        data = json.loads(meta) if isinstance(meta, str | bytes) else meta
        if isinstance(data, dict) and isinstance(data.get("request_id"), str):
            found[data["request_id"]] += 1
    return found


@dataclass
class Reconciled:
    writes: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    doubled: int = 0
    unanswered: int = 0  # no answer before the client gave up (outcome unknown to the client)
    unanswered_stored: int = 0
    refused: int = 0  # a final 4xx (nothing to store)
    refused_stored: int = 0  # a final 4xx whose events are stored anyway
    register_missing: int = 0  # an acknowledged enrolment without its register row
    orphans: int = 0  # register rows of the probe's class with no trajectory
    examples: list[str] = field(default_factory=list)
    unanswered_last: Counter[str] = field(default_factory=Counter)  # their last attempts

    def figures(self) -> dict[str, Any]:
        return {
            "acked": self.acknowledged,
            "stored": self.stored,
            "lost": self.lost,
            "doubled": self.doubled,
            "unanswered": self.unanswered,
            "orphans": self.orphans,
        }

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{self.lost} acknowledged commands not stored")
        if self.doubled:
            found.append(f"{self.doubled} commands stored more than once")
        if self.refused_stored:
            found.append(f"{self.refused_stored} commands answered 4xx but stored")
        if self.register_missing:
            found.append(f"{self.register_missing} acknowledged enrolments without a register row")
        if self.orphans:
            found.append(f"{self.orphans} register rows without a trajectory (half an enrolment)")
        return found + self.examples[:3]

    def notes(self) -> list[str]:
        if not self.unanswered:
            return []
        return [
            f"{self.unanswered} commands unanswered when the client gave up (last attempts "
            f"{compact(self.unanswered_last)}; {self.unanswered_stored} of them stored, once)"
        ]


def in_register(service: Service, pupils: list[str]) -> int:
    present = 0
    for start in range(0, len(pupils), 500):
        chunk = pupils[start : start + 500]
        names = ", ".join(f":p{k}" for k in range(len(chunk)))
        present += int(
            service.scalar(
                f"SELECT count(*) FROM pupils WHERE id IN ({names})",
                **{f"p{k}": p for k, p in enumerate(chunk)},
            )
        )
    return present


def reconcile(service: Service, ledger: Ledger, orphan_class: str | None = "8F") -> Reconciled:
    stored = stored_by_request(service)
    result = Reconciled()
    enrolled: list[str] = []
    for command in ledger.commands:
        if not command.write:
            continue
        result.writes += 1
        count = stored.get(command.id, 0)
        if command.acknowledged:
            _acknowledged(result, command, count)
            pupil = command.answer.get("pupil_id") if command.answer else None
            if command.kind == "enrol" and isinstance(pupil, str):
                enrolled.append(pupil)
        elif isinstance(command.final, int) and command.final < 500:
            result.refused += 1
            result.refused_stored += bool(count)
        else:
            result.unanswered += 1
            result.unanswered_stored += bool(count)
            if command.attempts:
                result.unanswered_last[label(command.attempts[-1])] += 1
            result.doubled += count > 2  # one command's events are one or two here
    result.register_missing = len(enrolled) - in_register(service, enrolled)
    if orphan_class is not None:
        result.orphans = int(
            service.scalar(
                "SELECT count(*) FROM pupils p WHERE p.class_name = :c AND NOT EXISTS "
                "(SELECT 1 FROM events e WHERE e.stream_id = 'trajectory-' || p.id)",
                c=orphan_class,
            )
        )
    return result


def _acknowledged(result: Reconciled, command: Command, count: int) -> None:
    result.acknowledged += 1
    expected = command.expected_events()
    if count == expected:
        result.stored += 1
    elif count < expected:
        result.lost += 1
        result.examples.append(
            f"lost: {command.method} {command.path} id {command.id} "
            f"answered {command.final}, {count} of {expected} events stored"
        )
    else:
        result.doubled += 1
        result.examples.append(
            f"doubled: {command.method} {command.path} id {command.id}: {count} events, "
            f"{expected} acknowledged"
        )
