"""`adviestraject user …`: IT adds a teacher, gives a token, revokes it; mistakes exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from service.bootstrap import bootstrap
from service.cli import app
from service.schools.demo import DEMO_SCHOOL
from service.settings import Settings

runner = CliRunner()


@pytest.fixture
def migrated(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["seed-demo"]).exit_code == 0
    return database_url


def test_a_teacher_is_added_gets_a_token_once_and_the_token_can_be_revoked(
    migrated: str,
) -> None:
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "juf@school.nl",
            "--name",
            "Juf Anna",
            "--role",
            "leerkracht",
            "--school",
            DEMO_SCHOOL.brin,
            "--class",
            "8A",
            "--password-stdin",
        ],
        input="een-lang-wachtwoord\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list"])
    assert f"juf@school.nl  leerkracht  Juf Anna  {DEMO_SCHOOL.brin}/8A" in listed.output

    issued = runner.invoke(app, ["user", "token", "juf@school.nl", "--name", "script"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[0]
    container = bootstrap(Settings(database_url=migrated))
    try:
        who = container.accounts.authenticate_token(token)
        assert who is not None
        assert who.email == "juf@school.nl"
        assert container.accounts.check_password("juf@school.nl", "een-lang-wachtwoord")
        tokens = runner.invoke(app, ["user", "tokens", "juf@school.nl"])
        assert token not in tokens.output
        token_id = tokens.output.split()[0]
        assert runner.invoke(app, ["user", "revoke", token_id]).exit_code == 0
        assert container.accounts.authenticate_token(token) is None
    finally:
        container.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["user", "add", "x@school.nl", "--name", "X", "--role", "directie"], "bij een school"),
        (
            ["user", "add", "x@school.nl", "--name", "X", "--role", "ib", "--school", "00XX"],
            "unknown school",
        ),
        (["user", "add", "geen-adres", "--name", "X", "--role", "beheer"], "geen e-mailadres"),
        (["user", "token", "niemand@school.nl"], "geen actieve gebruiker"),
        (["user", "revoke", "bestaat-niet"], "geen geldig token"),
    ],
)
def test_a_mistake_gets_one_line_and_exit_code_2(
    migrated: str, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
