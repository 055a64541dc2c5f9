"""Anchors outside the database catch what the hash chain alone cannot: a chain rewritten from one
event on with every later hash and the head recomputed, and a tail deleted with the head rolled
back. Both pass `verify --no-anchor`; both fail `verify` against the anchor file. The tampering
is done the way a database superuser could, with the append-only triggers off."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from service.advice.trajectories import Actor, CommandContext
from service.audit.anchors import (
    Anchor,
    AnchorFile,
    anchor_file,
    database_label,
    write_anchor,
    write_anchor_if_due,
)
from service.audit.verify import verify
from service.bootstrap import Container, bootstrap
from service.cli import app
from service.settings import Settings
from service.store.hashing import GENESIS_HASH, chain_hash
from service.store.migrate import upgrade
from service.worker import work
from tests.conftest import Clock, enrolled_pupil
from workflows.commands import GiveProvisionalAdvice
from workflows.scale import SchoolAdvice

CTX = CommandContext(actor=Actor("leerkracht-1", "leerkracht"), request_id="r-1")
HOUR = timedelta(hours=1)


@pytest.fixture
def anchored(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Container]:
    """A service whose anchors go to a directory of this test and are mailed to directie."""
    settings = Settings(
        database_url=database_url,
        mail_dir=tmp_path / "mail",
        anchor_dir=tmp_path / "anchors",
        anchor_mail_to="directie@school.example",
        worker_status_dir=tmp_path / "worker",
    )
    container = bootstrap(settings, clock=clock)
    upgrade(container.engine)
    yield container
    container.close()


@pytest.fixture
def cli_env(anchored: Container, database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    settings = anchored.settings
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.setenv("ADVIESTRAJECT_ANCHOR_DIR", str(settings.anchor_dir))
    monkeypatch.setenv("ADVIESTRAJECT_MAIL_DIR", str(settings.mail_dir))
    monkeypatch.setenv("ADVIESTRAJECT_ANCHOR_MAIL_TO", "directie@school.example")
    return CliRunner()


def pupils_with_advice(container: Container, n: int) -> None:
    """n pupils, each enrolled and given a voorlopig advies: two events each."""
    for _ in range(n):
        pupil = enrolled_pupil(container)
        advice = GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15))
        container.trajectories.execute(pupil, advice, CTX)


def triggers_off(engine: Engine) -> None:
    """What a database superuser can do: switch the append-only triggers off."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))


def rewrite_chain_from(container: Container, position: int) -> None:
    """Change the event at `position` and recompute every later hash and the head, so the
    chain is consistent again."""
    triggers_off(container.engine)
    previous = GENESIS_HASH
    with container.engine.begin() as conn:
        for event in container.store.read_all(0, 100_000):
            data = {**event.data, "vervalst": True} if event.position == position else event.data
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
            if event.position >= position:
                conn.execute(
                    text("UPDATE events SET data = :d, hash = :h WHERE position = :p"),
                    {"d": json.dumps(data), "h": digest, "p": event.position},
                )
            previous = digest
        conn.execute(text("UPDATE log_head SET hash = :h"), {"h": previous})


def truncate_to(container: Container, position: int) -> None:
    """Delete every event after `position` and roll the head back to it."""
    triggers_off(container.engine)
    kept = container.store.read_all(position - 1, 1)[0]
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position > :p"), {"p": position})
        conn.execute(
            text("UPDATE log_head SET position = :p, hash = :h"), {"p": position, "h": kept.hash}
        )


def kept_anchors(container: Container) -> tuple[Anchor, ...]:
    return anchor_file(container.settings, container.engine.url).read().anchors


def test_a_chain_rewritten_from_one_event_on_passes_without_anchor_but_not_against_the_anchor(
    anchored: Container, cli_env: CliRunner
) -> None:
    pupils_with_advice(anchored, 3)
    written = cli_env.invoke(app, ["anchor"])
    assert written.exit_code == 0, written.output
    assert "anchor 6:" in written.output
    rewrite_chain_from(anchored, 2)

    assert verify(anchored.store).ok
    blind = cli_env.invoke(app, ["verify", "--no-anchor"])
    assert blind.exit_code == 0, blind.output

    caught = cli_env.invoke(app, ["verify"])
    assert caught.exit_code == 1, caught.output
    assert "TAMPERED at position 6" in caught.output
    assert "at or before this position was changed and every later hash recomputed" in (
        caught.output
    )


def test_a_tail_deleted_with_the_head_rolled_back_passes_without_anchor_but_not_against_it(
    anchored: Container, cli_env: CliRunner
) -> None:
    pupils_with_advice(anchored, 3)
    assert cli_env.invoke(app, ["anchor"]).exit_code == 0
    truncate_to(anchored, 4)

    assert verify(anchored.store).ok
    assert cli_env.invoke(app, ["verify", "--no-anchor"]).exit_code == 0

    caught = cli_env.invoke(app, ["verify"])
    assert caught.exit_code == 1, caught.output
    assert "TAMPERED at position 5" in caught.output
    assert "the log ends at position 4 (head 4)" in caught.output
    assert "events 5–6 were deleted and the head rolled back" in caught.output


def test_the_deleted_anchored_event_itself_is_named(anchored: Container) -> None:
    pupils_with_advice(anchored, 3)
    write_anchor(
        anchored.store, anchor_file(anchored.settings, anchored.engine.url), anchored.clock()
    )
    truncate_to(anchored, 5)
    breach = verify(anchored.store, anchors=kept_anchors(anchored)).breach
    assert breach is not None
    assert breach.position == 6
    assert "event 6 was deleted and the head rolled back" in breach.reason


def test_two_anchors_narrow_a_rewrite_down_to_the_events_between_them(
    anchored: Container, clock: Clock
) -> None:
    file = anchor_file(anchored.settings, anchored.engine.url)
    pupils_with_advice(anchored, 2)
    write_anchor(anchored.store, file, clock())
    pupils_with_advice(anchored, 2)
    write_anchor(anchored.store, file, clock())
    rewrite_chain_from(anchored, 6)
    breach = verify(anchored.store, anchors=kept_anchors(anchored)).breach
    assert breach is not None
    assert breach.position == 8
    assert "an event after position 4, at or before this position" in breach.reason


def test_an_untouched_log_verifies_against_all_its_anchors(
    anchored: Container, clock: Clock, cli_env: CliRunner
) -> None:
    file = anchor_file(anchored.settings, anchored.engine.url)
    for _ in range(3):
        pupils_with_advice(anchored, 1)
        write_anchor(anchored.store, file, clock())
    pupils_with_advice(anchored, 1)  # the log goes on after the last anchor
    report = verify(anchored.store, anchors=kept_anchors(anchored))
    assert report.ok
    assert report.anchors_checked == 3
    ok = cli_env.invoke(app, ["verify"])
    assert ok.exit_code == 0, ok.output
    assert "ok: 8 events" in ok.output
    assert "anchors: 3 checked; the latest matches: the anchor at position 6" in ok.output


def test_the_worker_anchors_when_the_head_moved_and_the_interval_passed(
    anchored: Container, clock: Clock
) -> None:
    t0 = clock()
    assert write_anchor_if_due(anchored, t0) is None  # an empty log has nothing to anchor
    pupils_with_advice(anchored, 1)
    first = write_anchor_if_due(anchored, t0)
    assert first is not None
    assert (first.position, first.hash) == anchored.store.head()
    pupils_with_advice(anchored, 1)
    assert write_anchor_if_due(anchored, t0 + 59 * timedelta(minutes=1)) is None  # not yet due
    second = write_anchor_if_due(anchored, t0 + HOUR)
    assert second is not None
    assert second.position == 4
    assert write_anchor_if_due(anchored, t0 + 3 * HOUR) is None  # due, but nothing happened
    assert [a.position for a in kept_anchors(anchored)] == [2, 4]
    assert [a.anchored_at for a in kept_anchors(anchored)] == [t0, t0 + HOUR]

    mails = sorted((anchored.settings.mail_dir).glob("anchor-*.eml"))
    assert len(mails) == 2
    mail = message_from_bytes(mails[1].read_bytes(), policy=policy.default)
    assert mail["Subject"] == "Anker van het logboek: positie 4"
    assert mail["To"] == "directie@school.example"
    body = mail.get_body()
    assert body is not None
    assert f"adviestraject verify --anchor 4:{second.hash}" in body.get_content()


def test_workers_that_find_an_anchor_due_at_the_same_moment_write_it_once(
    anchored: Container, clock: Clock
) -> None:
    pupils_with_advice(anchored, 2)
    start = threading.Barrier(4)
    written: list[Anchor | None] = []

    def worker() -> None:
        start.wait()
        written.append(write_anchor_if_due(anchored, clock()))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for w in written if w is not None) == 1
    assert [a.position for a in kept_anchors(anchored)] == [4]


def test_the_worker_loop_writes_an_anchor(anchored: Container) -> None:
    pupils_with_advice(anchored, 2)
    work(anchored, threading.Event(), once=True, interval=0.01)
    assert [a.position for a in kept_anchors(anchored)] == [4]


def test_no_anchor_is_laid_over_a_log_that_no_longer_matches_the_last_one(
    anchored: Container, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = clock()
    pupils_with_advice(anchored, 2)
    assert write_anchor_if_due(anchored, t0) is not None
    rewrite_chain_from(anchored, 1)
    pupils_with_advice(anchored, 1)  # the head moves on from the forged chain
    with caplog.at_level(logging.ERROR, logger="service.audit.anchors"):
        assert write_anchor_if_due(anchored, t0 + 2 * HOUR) is None
    assert "position 4 no longer carries the hash" in caplog.text
    assert [a.position for a in kept_anchors(anchored)] == [4]
    breach = verify(anchored.store, anchors=kept_anchors(anchored)).breach
    assert breach is not None
    assert breach.position == 4


def test_the_anchor_command_refuses_a_rolled_back_head_with_exit_1(
    anchored: Container, cli_env: CliRunner
) -> None:
    pupils_with_advice(anchored, 2)
    assert cli_env.invoke(app, ["anchor"]).exit_code == 0
    truncate_to(anchored, 2)
    refused = cli_env.invoke(app, ["anchor"])
    assert refused.exit_code == 1
    assert "the head is at position 2, behind the anchor at position 4" in refused.output
    assert [a.position for a in kept_anchors(anchored)] == [4]


def test_a_printed_anchor_round_trips_through_the_cli_in_both_spellings(
    anchored: Container, cli_env: CliRunner
) -> None:
    pupils_with_advice(anchored, 2)
    written = cli_env.invoke(app, ["anchor"])
    assert written.exit_code == 0, written.output
    printed = written.output.split("verify --anchor ")[1].split()[0]
    position, digest = printed.split(":")
    for spelling in (printed, f"{digest}@{position}", f"{digest.upper()}@{position}"):
        ok = cli_env.invoke(app, ["verify", "--no-anchor", "--anchor", spelling])
        assert ok.exit_code == 0, ok.output
        assert "anchors: 1 given, all match" in ok.output
    forged = cli_env.invoke(app, ["verify", "--no-anchor", "--anchor", f"{position}:{'0' * 64}"])
    assert forged.exit_code == 1
    assert "TAMPERED at position 4" in forged.output
    assert "the anchor at position 4 (--anchor)" in forged.output
    bad = cli_env.invoke(app, ["verify", "--anchor", "4:abc"])
    assert bad.exit_code == 2
    assert "expected POSITION:HASH or HASH@POSITION" in bad.output


def test_verify_says_so_when_there_is_no_anchor_file(
    anchored: Container, cli_env: CliRunner
) -> None:
    pupils_with_advice(anchored, 1)
    result = cli_env.invoke(app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "ok: 2 events" in result.output
    assert "warning: no anchors in" in result.output
    assert "only the chain inside the database was checked" in result.output


def test_a_line_torn_by_a_crash_is_skipped_and_the_next_anchor_starts_a_fresh_line(
    tmp_path: Path,
) -> None:
    file = AnchorFile(tmp_path / "anchors-x.jsonl", "x")
    file.append(Anchor(1, "a" * 64))
    with file.path.open("ab") as raw:
        raw.write(b'{"position": 2, "ha')  # the power went out mid-write
    last = file.last()
    assert last is not None
    assert last.position == 1
    file.append(Anchor(3, "c" * 64))
    kept = file.read()
    assert [a.position for a in kept.anchors] == [1, 3]
    assert kept.unreadable == 1
    assert kept.latest is not None
    assert kept.latest.position == 3
    last = file.last()
    assert last is not None
    assert last.position == 3


def test_each_database_gets_its_own_anchor_file_named_without_its_password(tmp_path: Path) -> None:
    one = database_label(make_url(f"sqlite:///{tmp_path}/one.db"))
    two = database_label(make_url(f"sqlite:///{tmp_path}/two.db"))
    pg = database_label(
        make_url(
            "postgresql+psycopg://app:geheim@db.example:5433/adviestraject"
            "?options=-csearch_path%3Dt_1"
        )
    )
    assert one != two
    assert pg == "postgresql-db.example-5433-adviestraject-t_1"
    assert "geheim" not in pg
