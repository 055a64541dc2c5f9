"""The README's API example, run as written against the demo school: it must stay true.

The request (pupil, headers, body) is read from the README's "Try the API" block and sent to the
app as the demo teacher on the day the example was written; the answers must match the
README's comments (status, versions, event types, advice code, timeliness).
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.bootstrap import Container
from service.cli import app as cli
from service.imports.running import pupil_id_for
from service.schools.demo import (
    DEMO_SCHOOL,
    DEMO_TEACHER,
    demo_pupil_id,
    seed_demo,
    seed_demo_users,
)
from tests.conftest import Clock

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Try the API", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh", 1)[1].split("```", 1)[0]


def test_the_readme_api_example_does_what_the_readme_says(
    container: Container, clock: Clock
) -> None:
    block = example()
    body_text = re.search(r"-d '(\{.*?\})'", block)
    pupil = re.search(r"PUPIL=([0-9a-f-]{36})", block)
    assert body_text, "the README example lost its body"
    assert pupil, "the README example lost its pupil"
    body = json.loads(body_text.group(1))
    assert pupil.group(1) == str(demo_pupil_id("Luuk", "Bakker"))
    headers = dict(re.findall(r"-H '([\w-]+): ([^']+)'", block))

    clock.now = datetime(2026, 11, 23, 10, tzinfo=UTC)  # the day the example was written
    seed_demo(container.register, container.trajectories, clock.now.date())
    seed_demo_users(container.accounts)
    token = container.accounts.issue_token(DEMO_TEACHER, "readme", days=1).token
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        posted = client.post(
            f"/api/v1/pupils/{pupil.group(1)}/provisional-advice",
            json=body,
            headers=auth | {k: v for k, v in headers.items() if k != "Content-Type"},
        )
        assert posted.status_code == 201, posted.text
        said_version = re.search(r'# \{.*"stream_version":(\d+),"event_types":(\[[^\]]*\])', block)
        assert said_version, "the README example lost its POST answer"
        assert posted.json()["stream_version"] == int(said_version.group(1))
        assert posted.json()["event_types"] == json.loads(said_version.group(2))

        got = client.get(f"/api/v1/pupils/{pupil.group(1)}/trajectory", headers=auth).json()
        for key in ("status", "status_label", "code", "label", "timeliness"):
            said = re.search(rf'"{key}":"([^"]+)"', block.split("/trajectory", 1)[1])
            assert said, f"the README example lost {key}"
            found = json.dumps(got, ensure_ascii=False)
            assert f'"{key}": "{said.group(1)}"' in found, (key, said.group(1))

        assert client.get(f"/api/v1/pupils/{pupil.group(1)}/trajectory").status_code == 401


def test_the_readme_import_example_does_what_the_readme_says(
    container: Container,
    clock: Clock,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CSV and the two commands of "Results, CSV imports and the chain", into the demo
    school, answer as the README's comments say."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Results, CSV imports and the chain", 1)[1].split("\n## ", 1)[0]
    csv_text = section.split("```csv\n", 1)[1].split("```", 1)[0]
    commands = section.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    clock.now = datetime.now(UTC)  # the command line runs on today's date, as in make run
    seed_demo(container.register, container.trajectories, clock.now.date())
    seed_demo_users(container.accounts)  # the README's commands act for the demo's directie
    (tmp_path / "leerlingen.csv").write_text(csv_text, encoding="utf-8")
    monkeypatch.setenv("ADVIESTRAJECT_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    pairs = list(zip(commands[::2], commands[1::2], strict=True))
    assert len(pairs) == 2
    for command, said in pairs:
        args = shlex.split(command)
        assert args[0] == ".venv/bin/adviestraject"
        result = CliRunner().invoke(cli, args[1:])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == said.removeprefix("# ")
    fenna = container.register.pupil(str(pupil_id_for(DEMO_SCHOOL.id, "5001")))
    assert fenna is not None
    assert fenna.family_name == "van Dijk"
