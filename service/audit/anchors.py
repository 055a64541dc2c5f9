"""Anchors: the log's head written down outside the database, so `verify` can prove the past.

The hash chain shows that no event was changed *relative to the head row*; someone who can write
to the database can still rewrite every hash from one event on and the head with it, or delete
the newest events and roll the head back. An anchor — the head's position and hash at a moment,
kept where the database cannot reach — closes that gap: the event at the anchor's position must
still carry the anchor's hash, and the head may never be behind it.

Anchors are appended as JSON lines to one file per database (`anchors-<database>.jsonl` in
ADVIESTRAJECT_ANCHOR_DIR), each line fsync'd, never rewritten; optionally each one is mailed to
directie as well. The worker writes one when the head moved and ADVIESTRAJECT_ANCHOR_INTERVAL
has passed (`write_anchor_if_due`); `adviestraject anchor` writes one at once. Before a new anchor
is written the previous one is checked against the database: an anchor is never laid on top of
a log that no longer matches the last one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from service.outbox.mail import mailer_from
from service.settings import Settings
from service.store.events import StoredEvent

log = logging.getLogger(__name__)

_HASH = re.compile(r"[0-9a-f]{64}")
_TAIL = 4096  # bytes read from the end of the file to find the last anchor (a line: ~250)


@dataclass(frozen=True)
class Anchor:
    """The head of the log at one moment: its position and hash, when its last event was
    recorded, when the anchor was taken, and where it comes from (for messages)."""

    position: int
    hash: str
    recorded_at: datetime | None = None
    anchored_at: datetime | None = None
    source: str = "--anchor"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """`POSITION:HASH` (as `verify` and `anchor` print it) or `HASH@POSITION`."""
        text = text.strip()
        if "@" in text:
            digest, _, position = text.partition("@")
        else:
            position, _, digest = text.partition(":")
        digest = digest.lower()
        if not position.isdigit() or int(position) < 1 or not _HASH.fullmatch(digest):
            raise ValueError(
                f"anchor {text!r}: expected POSITION:HASH or HASH@POSITION "
                "(a position from 1, a hash of 64 hexadecimal characters)"
            )
        return cls(int(position), digest)

    @property
    def printed(self) -> str:
        return f"{self.position}:{self.hash}"

    def described(self) -> str:
        """How a message names this anchor: position, when it was taken and from where."""
        when = f" of {self.anchored_at:%Y-%m-%d %H:%M} UTC" if self.anchored_at else ""
        return f"the anchor at position {self.position}{when} ({self.source})"

    def line(self, database: str) -> str:
        return json.dumps(
            {
                "position": self.position,
                "hash": self.hash,
                "recorded_at": _iso(self.recorded_at),
                "anchored_at": _iso(self.anchored_at),
                "database": database,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class AnchorLog:
    anchors: tuple[Anchor, ...]
    unreadable: int
    """Lines that are not an anchor (a line torn by a crash, or someone edited the file)."""

    @property
    def latest(self) -> Anchor | None:
        """The anchor furthest along the log (the head may never be behind it)."""
        return max(self.anchors, key=lambda a: a.position, default=None)


class Log(Protocol):
    """What anchors and `verify` read of the event store."""

    def head(self) -> tuple[int, str]: ...

    def read_all(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]: ...


def event_at(store: Log, position: int) -> StoredEvent | None:
    page = store.read_all(position - 1, 1)
    return page[0] if page and page[0].position == position else None


class AnchorRefusedError(Exception):
    """The database no longer matches the last anchor: no new anchor is laid over it."""


def database_label(url: URL) -> str:
    """A readable name for the database a URL opens, for the anchor file's name: the resolved
    file for SQLite; host, port, database and search path for PostgreSQL. Never a password."""
    if url.get_backend_name() == "sqlite":
        path = url.database
        name = "memory" if not path or path == ":memory:" else str(Path(path).resolve())
        identity = f"sqlite-{name}"
    else:
        options = str(url.query.get("options", ""))
        schema = re.search(r"search_path=([^\s,]+)", options)
        parts = [url.host or "local", str(url.port or 5432), url.database or ""]
        identity = "postgresql-" + "-".join(parts + ([schema.group(1)] if schema else []))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", identity).strip("_")
    if len(slug) > 120:
        slug = f"{slug[:100]}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
    return slug


class AnchorFile:
    """An append-only JSON-lines file of anchors for one database."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database

    @classmethod
    def for_database(cls, directory: Path, url: URL) -> AnchorFile:
        label = database_label(url)
        return cls(directory / f"anchors-{label}.jsonl", label)

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> AnchorLog:
        anchors: list[Anchor] = []
        unreadable = 0
        with self.path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                if not raw.strip():
                    continue
                anchor = self._anchor(raw, number)
                if anchor is None:
                    unreadable += 1
                else:
                    anchors.append(anchor)
        return AnchorLog(tuple(anchors), unreadable)

    def last(self) -> Anchor | None:
        """The anchor written last (read from the file's end, so it stays cheap)."""
        try:
            with self.path.open("rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - _TAIL))
                tail = file.read()
                found = self._last_in(tail)
                if found is not None or size <= _TAIL:
                    return found
                file.seek(0)  # no anchor in the tail (garbage at the end): read it all
                return self._last_in(file.read())
        except FileNotFoundError:
            return None

    def _last_in(self, text: bytes) -> Anchor | None:
        for raw in reversed(text.splitlines()):
            anchor = self._anchor(raw, None)
            if anchor is not None:
                return anchor
        return None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Other processes on this machine wait here, so two workers never both decide that an
        anchor is due and check the previous one at the same time."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def append(self, anchor: Anchor) -> None:
        """One line at the end, on disk before this returns (the file, and for the first line
        the directory entry too)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            line = anchor.line(self.database).encode() + b"\n"
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a crash tore the last line: start on a fresh one
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if size == 0:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _anchor(self, raw: bytes, number: int | None) -> Anchor | None:
        try:
            fields = json.loads(raw)
            position, digest = int(fields["position"]), str(fields["hash"])
            if position < 1 or not _HASH.fullmatch(digest):
                return None
            where = f"{self.path.name}, line {number}" if number else self.path.name
            return Anchor(
                position,
                digest,
                _time(fields.get("recorded_at")),
                _time(fields.get("anchored_at")),
                where,
            )
        except (ValueError, KeyError, TypeError):
            return None


def current_head(store: Log, now: datetime) -> Anchor | None:
    """The log's head as an anchor taken `now`; None while the log is empty."""
    position, digest = store.head()
    if position == 0:
        return None
    last = event_at(store, position)
    return Anchor(position, digest, last.recorded_at if last else None, now, "the head")


def mismatch(store: Log, anchor: Anchor) -> str | None:
    """Why the database no longer agrees with `anchor`, or None when it does: the head is not
    behind it and the event at its position still carries its hash (one indexed read)."""
    head_position, _ = store.head()
    at = event_at(store, anchor.position)
    if head_position < anchor.position:
        return (
            f"the head is at position {head_position}, behind {anchor.described()}: "
            "events at the end were deleted and the head rolled back"
        )
    if at is None:
        return f"position {anchor.position} of {anchor.described()} is missing from the log"
    if at.hash != anchor.hash:
        return (
            f"position {anchor.position} no longer carries the hash of {anchor.described()}: "
            "an event at or before it was changed and the chain recomputed"
        )
    return None


def write_anchor(
    store: Log,
    file: AnchorFile,
    now: datetime,
    *,
    every: timedelta | None = None,
) -> Anchor | None:
    """Anchor the head now; with `every`, only when the head moved and `every` has passed since
    the last anchor. Raises AnchorRefusedError when the log no longer matches the last anchor
    (writing a new one would launder the tampering). None when nothing was written."""
    if every is not None and not _due(file.last(), now, every):
        return None  # the common case, decided without the lock or the database
    with file.locked():
        last = file.last()
        if every is not None and not _due(last, now, every):
            return None  # another process anchored meanwhile
        head = current_head(store, now)
        if head is None:
            return None
        if last is not None:
            reason = mismatch(store, last)
            if reason is not None:
                raise AnchorRefusedError(reason)
            if every is not None and (last.position, last.hash) == (head.position, head.hash):
                return None  # nothing happened since: an anchor would prove nothing new
        file.append(head)
    return head


def anchor_file(settings: Settings, url: URL) -> AnchorFile:
    return AnchorFile.for_database(settings.anchor_dir, url)


def mail_anchor(settings: Settings, anchor: Anchor) -> None:
    """A copy for directie, in Dutch: keeping it in a mailbox off this server is the point."""
    if not settings.anchor_mail_to:
        return
    recorded = _dutch(anchor.recorded_at) if anchor.recorded_at else "onbekend"
    body = (
        "Beste directie,\n\n"
        "Dit is een anker van het logboek van het schooladviestraject: een vingerafdruk van\n"
        "alles wat tot nu toe is vastgelegd. Bewaar deze e-mail buiten de server, bijvoorbeeld\n"
        "in uw eigen mailbox of geprint. Wie het logboek later ongemerkt wil wijzigen of\n"
        "inkorten, kan dit anker niet meer laten kloppen.\n\n"
        f"Positie: {anchor.position}\n"
        f"Hash: {anchor.hash}\n"
        f"Laatste gebeurtenis vastgelegd: {recorded}\n"
        f"Anker gemaakt: {_dutch(anchor.anchored_at or datetime.now(UTC))}\n\n"
        "De beheerder controleert het logboek hiertegen met:\n"
        f"  adviestraject verify --anchor {anchor.printed}\n\n"
        "Met vriendelijke groet,\nadviestraject\n"
    )
    mailer = mailer_from(settings)  # SMTP when configured, else .eml files
    mailer.send(
        f"anchor-{anchor.position}-{anchor.hash[:16]}",
        settings.anchor_mail_to,
        f"Anker van het logboek: positie {anchor.position}",
        body,
    )


# After a refusal the worker stays quiet for one interval instead of logging every round.
_refused_until: dict[Path, datetime] = {}


class Wired(Protocol):
    """What of the composition root's container the worker's step needs."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def store(self) -> Log: ...


def write_anchor_if_due(container: Wired, now: datetime) -> Anchor | None:
    """The worker's housekeeping step: anchor the head when it moved and the interval passed.

    Never raises for the anchor's own trouble (a refusal, a full disk): it is logged as an
    error and tried again after an interval, so the worker's real work goes on.
    """
    settings = container.settings
    file = anchor_file(settings, container.engine.url)
    quiet = _refused_until.get(file.path)
    if quiet is not None and now < quiet:
        return None
    every = timedelta(seconds=settings.anchor_interval)
    try:
        anchor = write_anchor(container.store, file, now, every=every)
        if anchor is not None:
            log.info("anchored the log at %s in %s", anchor.printed, file.path)
            mail_anchor(settings, anchor)
    except AnchorRefusedError as refused:
        _refused_until[file.path] = now + every
        log.error("not anchoring the log: %s; run 'adviestraject verify'", refused)
        return None
    except OSError:
        _refused_until[file.path] = now + every
        log.exception("could not write an anchor to %s", file.path)
        return None
    _refused_until.pop(file.path, None)
    return anchor


def _due(last: Anchor | None, now: datetime, every: timedelta) -> bool:
    return last is None or last.anchored_at is None or now - last.anchored_at >= every


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _dutch(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%d-%m-%Y %H:%M} UTC"
