"""docs/api.md, run as written: every request block is sent, in order, on the day and in the role
its comment names, and the answer must match the block that follows (status, the headers shown,
and every JSON member shown). Values an answer returns (`pupil_id`, `objection_id`,
`access_token`) fill the placeholders of later requests; `<!-- worker -->` runs the worker.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi.testclient import TestClient

from service.accounts.roles import Role, Scope
from service.api.app import create_app
from service.bootstrap import Container
from service.intake.processing import process_pending
from service.schools.demo import DEMO_CLASS, DEMO_EDU_TO, DEMO_OIN, DEMO_SCHOOL
from tests.conftest import Clock

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
STEP = re.compile(r"```http\n(.*?)```|<!-- (worker) -->", re.S)


@dataclass(frozen=True)
class Block:
    first: str
    headers: dict[str, str]
    body: str


def parse(block: str) -> Block:
    head, _, body = block.partition("\n\n")
    lines = head.strip().splitlines()
    comment = [line for line in lines if line.startswith("#")]
    first, *rest = [line for line in lines if not line.startswith("#")]
    headers = dict(line.split(": ", 1) for line in rest)
    return Block("\n".join([*comment, first]), headers, body.strip())


def contains(answer: Any, shown: Any) -> bool:
    """Every member the document shows is in the answer, with that value."""
    if isinstance(shown, dict):
        return isinstance(answer, dict) and all(
            key in answer and contains(answer[key], value) for key, value in shown.items()
        )
    if isinstance(shown, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(shown)
            and all(contains(a, s) for a, s in zip(answer, shown, strict=True))
        )
    return bool(answer == shown)


def fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def test_every_example_in_the_api_docs_does_what_the_docs_say(
    container: Container, clock: Clock
) -> None:
    container.register.add_school(DEMO_SCHOOL)
    tokens = {}
    for role, scope in (
        (Role.LEERKRACHT, Scope(DEMO_SCHOOL.id, DEMO_CLASS)),
        (Role.IB, Scope(DEMO_SCHOOL.id)),
        (Role.DIRECTIE, Scope(DEMO_SCHOOL.id)),
        (Role.BEHEER, None),
    ):
        scopes = [scope] if scope else []
        container.accounts.add_user(f"{role.value}@school.nl", role.label, role, scopes)
        tokens[role.value] = container.accounts.issue_token(
            f"{role.value}@school.nl", "docs", days=365
        ).token
    provider = container.clients.add("koppeling@iep.nl", "IEP-koppeling", [DEMO_SCHOOL.id])
    container.register.set_routing(DEMO_SCHOOL.id, DEMO_EDU_TO, DEMO_OIN)
    values = {
        "edu_to": DEMO_EDU_TO,
        "oin": DEMO_OIN,
        "school_id": DEMO_SCHOOL.id,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
    }
    steps = list(STEP.finditer(DOC.read_text(encoding="utf-8")))
    http_blocks = [m.group(1) for m in steps if m.group(1)]
    assert len(http_blocks) >= 30, "the document lost its examples"
    assert len(http_blocks) % 2 == 0, "every request needs its answer"

    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        pending: Block | None = None
        for step in steps:
            if step.group(2):  # the worker runs
                assert process_pending(container) == 1
                continue
            block = parse(step.group(1))
            if pending is None:
                pending = block
                continue
            request, pending = pending, None
            comment, line = request.first.split("\n")
            when, _, who = comment.lstrip("# ").partition(", ")
            day = date.fromisoformat(when)
            clock.now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            method, path = fill(line, values).split(" ", 1)
            headers = {k: fill(v, values) for k, v in request.headers.items()}
            if who in tokens:
                headers["Authorization"] = f"Bearer {tokens[who]}"
            body = fill(request.body, values)
            if headers.get("Content-Type") == "application/x-www-form-urlencoded":
                answer = client.request(method, path, headers=headers, data=dict(parse_qsl(body)))
            else:
                answer = client.request(
                    method, path, headers=headers, json=json.loads(body) if body else None
                )

            where = f"{method} {path} on {when} as {who}: {answer.text[:300]}"
            assert block.first.split()[1] == str(answer.status_code), where
            for name, value in block.headers.items():
                assert answer.headers[name].startswith(value), (name, where)
            if block.body:
                assert contains(answer.json(), json.loads(block.body)), where
            if answer.headers.get("content-type") == "application/json":
                for key in ("pupil_id", "objection_id", "access_token"):
                    if isinstance(answer.json().get(key), str):
                        values[key] = answer.json()[key]
