"""`verify` finds every kind of tampering, done on purpose with the append-only triggers off.

What only an anchor outside the database can catch (a consistently rewritten chain, a tail
deleted with the head rolled back) is shown end to end in `test_anchors.py`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from service.advice.trajectories import Actor, CommandContext
from service.audit.anchors import Anchor, Log
from service.audit.verify import verify
from service.bootstrap import Container
from service.cli import app
from service.store.hashing import GENESIS_HASH, chain_hash
from tests.conftest import enrolled_pupil
from workflows.commands import GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(container: Container) -> Log:
    """Given a log of three pupils' streams, enrolled and given a voorlopig advies: six events
    (positions 1-2, 3-4 and 5-6), appended the way production appends."""
    advice = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
    for _ in range(3):
        pupil = enrolled_pupil(container)
        container.trajectories.execute(
            pupil, advice, CommandContext(actor=Actor("t", "leerkracht"))
        )
    return container.store


@pytest.fixture
def streams(store: Log) -> list[str]:
    return [e.stream_id for e in store.read_all(0, 100)][::2]


@pytest.fixture
def tamper(container: Container) -> Engine:
    """What a database superuser can do: switch the append-only triggers off."""
    engine = container.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))
    return engine


def sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_an_untouched_log_verifies(store: Log) -> None:
    report = verify(store)
    assert report.ok
    assert (report.events, report.head_position) == (6, 6)


def test_a_changed_event_is_found_at_its_position(
    store: Log, streams: list[str], tamper: Engine
) -> None:
    sql(
        tamper,
        "UPDATE events SET data = :d WHERE position = 3",
        d=json.dumps({"advice": "VWO", "n": 1}),
    )
    breach = verify(store).breach
    assert breach is not None
    assert (breach.position, breach.stream_id) == (3, streams[1])
    assert "changed" in breach.reason


def test_a_changed_actor_in_the_metadata_is_found(store: Log, tamper: Engine) -> None:
    sql(
        tamper,
        "UPDATE events SET metadata = :m WHERE position = 4",
        m=json.dumps({"actor": "directeur"}),
    )
    breach = verify(store).breach
    assert breach is not None
    assert breach.position == 4


def test_a_deleted_event_is_found(store: Log, tamper: Engine) -> None:
    sql(tamper, "DELETE FROM events WHERE position = 2")
    breach = verify(store).breach
    assert breach is not None
    assert breach.position == 2
    assert "deleted" in breach.reason


def test_events_deleted_from_the_end_are_found_against_the_head(store: Log, tamper: Engine) -> None:
    sql(tamper, "DELETE FROM events WHERE position >= 5")
    breach = verify(store).breach
    assert breach is not None
    assert "head" in breach.reason


def test_an_inserted_event_is_found(store: Log, streams: list[str], tamper: Engine) -> None:
    last = store.read_all()[-1]
    forged = chain_hash(
        last.hash,
        stream_id=streams[0],
        stream_version=3,
        event_type="advice_raised",
        schema_version=1,
        data={"advice": "VWO"},
        metadata={"actor": "t"},
        recorded_at=T0,
    )
    sql(
        tamper,
        "INSERT INTO events (position, stream_id, stream_version, event_type, "
        "schema_version, data, metadata, recorded_at, hash) VALUES (7, :s, 3, 'advice_raised', "
        "1, :d, :m, :t, :h)",
        s=streams[0],
        d=json.dumps({"advice": "VWO"}),
        m=json.dumps({"actor": "t"}),
        t=T0.replace(tzinfo=None) if tamper.dialect.name == "sqlite" else T0,
        h=forged,
    )
    breach = verify(store).breach
    assert breach is not None
    assert "head" in breach.reason


def test_two_swapped_events_are_found(store: Log, tamper: Engine) -> None:
    sql(tamper, "UPDATE events SET position = 1000 WHERE position = 3")
    sql(tamper, "UPDATE events SET position = 3 WHERE position = 4")
    sql(tamper, "UPDATE events SET position = 4 WHERE position = 1000")
    breach = verify(store).breach
    assert breach is not None
    assert breach.position == 3


def test_a_whole_rewritten_chain_is_caught_only_by_a_published_anchor(
    store: Log, tamper: Engine
) -> None:
    published = Anchor(*store.head())
    # The attacker rewrites event 2 and recomputes every later hash and the head: the chain is
    # consistent again, so only a head published earlier can tell.
    events = store.read_all()
    previous = GENESIS_HASH
    for event in events:
        data = {"reason": "gewijzigd", "n": 0} if event.position == 2 else event.data
        digest = chain_hash(
            previous,
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            event_type=event.event_type,
            schema_version=event.schema_version,
            data=data,
            metadata=event.metadata,
            recorded_at=event.recorded_at,
        )
        sql(
            tamper,
            "UPDATE events SET data = :d, hash = :h WHERE position = :p",
            d=json.dumps(data),
            h=digest,
            p=event.position,
        )
        previous = digest
    sql(tamper, "UPDATE log_head SET hash = :h", h=previous)
    assert verify(store).ok
    breach = verify(store, anchors=(published,)).breach
    assert breach is not None
    assert "anchor" in breach.reason


def test_the_verify_command_exits_1_and_names_the_position(
    store: Log,
    tamper: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.setenv("ADVIESTRAJECT_ANCHOR_DIR", str(tmp_path / "anchors"))
    ok = CliRunner().invoke(app, ["verify"])
    assert ok.exit_code == 0, ok.output
    assert "ok: 6 events" in ok.output
    sql(tamper, "DELETE FROM events WHERE position = 4")
    bad = CliRunner().invoke(app, ["verify"])
    assert bad.exit_code == 1
    assert "TAMPERED at position 4" in bad.output
