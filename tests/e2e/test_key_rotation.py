"""Pupils' keys are wrapped by a key file outside the database, and the key can be rotated."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from typer.testing import CliRunner

from service.bootstrap import bootstrap
from service.cli import app
from service.settings import Settings
from service.shared.context import Actor, CommandContext
from service.store.keys import KeyRing
from service.store.schema import pupil_keys
from workflows.commands import (
    EnrolPupil,
    GiveProvisionalAdvice,
    KeepAdvice,
    ReceiveTestResult,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty, KeepReason
from workflows.scale import SchoolAdvice, TestAdvice

runner = CliRunner()
CTX = CommandContext(actor=Actor("juf", "leerkracht"))
SECRET = "thuis is het onrustig"


def kept_motivation(database_url: str, key_file: Path) -> str:
    container = bootstrap(Settings(database_url=database_url, key_file=key_file))
    try:
        [pupil] = [uuid.UUID(str(k)) for k in _pupils(container.engine)]
        events = container.trajectories.history(pupil)
        [kept] = [e for e in events if e.event_type == "advice_kept"]
        return str(kept)
    finally:
        container.close()


def _pupils(engine: object) -> list[str]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return [str(r[0]) for r in conn.execute(select(pupil_keys.c.pupil_id))]


@pytest.fixture
def kept(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pupil whose advice was kept with a motivation, under key file `k1`."""
    key_file = tmp_path / "keys.kek"
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.setenv("ADVIESTRAJECT_KEY_FILE", str(key_file))
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    now = [datetime(2026, 1, 20, tzinfo=UTC)]
    container = bootstrap(
        Settings(database_url=database_url, key_file=key_file), clock=lambda: now[0]
    )
    pupil = uuid.uuid4()
    run = container.trajectories.execute
    enrol = EnrolPupil(
        school_id="s", school_year="2025-2026", groep=8, enrolled_on=date(2025, 8, 25)
    )
    run(pupil, enrol, CTX)
    run(pupil, GiveProvisionalAdvice(advice=SchoolAdvice.HAVO, given_on=date(2026, 1, 15)), CTX)
    now[0] = datetime(2026, 3, 12, tzinfo=UTC)
    result = ReceiveTestResult(
        provider="IEP", delivery_id="d1", test_advice=TestAdvice.VWO, received_on=date(2026, 3, 11)
    )
    run(pupil, result, CTX)
    held = RecordConversationHeld(held_on=date(2026, 3, 12), attendees=(ConversationParty.PARENTS,))
    run(pupil, held, CTX)
    keep = KeepAdvice(
        decided_on=date(2026, 3, 12), reason=KeepReason.WORK_ATTITUDE, motivation=SECRET
    )
    run(pupil, keep, CTX)
    container.close()
    return key_file


def test_a_rotated_key_file_still_opens_every_motivation(kept: Path, database_url: str) -> None:
    old = kept.read_text()
    assert SECRET in kept_motivation(database_url, kept)
    kept.write_text(KeyRing.generate("k2").to_text() + old)  # the new key first
    rewrapped = runner.invoke(app, ["keys", "rewrap"])
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "1 pupil keys wrapped with key 'k2'" in rewrapped.output
    kept.write_text(kept.read_text().replace(old, ""))  # the old key leaves the file
    assert SECRET in kept_motivation(database_url, kept)


def test_without_its_key_file_nothing_opens_the_free_text(
    kept: Path, database_url: str, tmp_path: Path
) -> None:
    other = tmp_path / "other.kek"
    other.write_text(KeyRing.generate("k1").to_text())
    with pytest.raises(InvalidTag):
        kept_motivation(database_url, other)


def test_production_refuses_to_start_without_a_key_file(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.setenv("ADVIESTRAJECT_ENVIRONMENT", "production")
    monkeypatch.setenv("ADVIESTRAJECT_KEY_FILE", str(tmp_path / "missing.kek"))
    result = runner.invoke(app, ["keys", "rewrap"])
    assert result.exit_code == 2
    assert "no key-encryption key file" in result.output


def test_keys_new_writes_a_private_key_file_once(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "pupil-keys.kek"
    made = runner.invoke(app, ["keys", "new", str(path)])
    assert made.exit_code == 0, made.output
    assert path.stat().st_mode & 0o777 == 0o600
    assert KeyRing.from_file(path).current_id == "k1"
    again = runner.invoke(app, ["keys", "new", str(path)])
    assert again.exit_code == 2
    assert "exists already" in again.output
