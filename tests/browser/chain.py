"""A toets result delivered through the chain, over real HTTP, as a test provider's system does:
beheer registers the provider's client for the school (`adviestraject client add`), the client
exchanges its id and secret for a bearer token (POST /api/v1/oauth/token) and POSTs the
standard's example Leerlingresultaat, with our LAS-key and the chosen toetsadvies, to
/doorstroomtoetsketen/v1.1/leerlingresultaat?edu-to=…&edu-from=… (see tests/e2e/intake.py)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from service.intake.standard import example
from tests.browser.served import Served


@dataclass(frozen=True)
class Provider:
    served: Served
    token: str
    edu_to: str
    oin: str

    def deliver(self, pupil_id: str, toetsadvies: str, delivery_id: str | None = None) -> int:
        """POST one Leerlingresultaat; the HTTP status (202 when accepted)."""
        message = result_message(pupil_id, toetsadvies, delivery_id or f"rs-{uuid.uuid4()}")
        query = urllib.parse.urlencode({"edu-to": self.edu_to, "edu-from": self.oin})
        request = urllib.request.Request(  # noqa: S310 (loopback URL of the served test app)
            self.served.url(f"/doorstroomtoetsketen/v1.1/leerlingresultaat?{query}"),
            data=json.dumps(message).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return int(answer.status)


def result_message(pupil_id: str, toetsadvies: str, delivery_id: str) -> dict[str, Any]:
    """The standard's example Leerlingresultaat, for this pupil, with this toetsadvies."""
    message = example("/leerlingresultaat", "Leerlingresultaat")
    scores = message["resultatenscores"]
    scores["id"] = delivery_id
    scores["deelnemerref"] = [{"label": "LAS-key", "onderwijsdeelnemerID": pupil_id}]
    for result in scores["resultaten"]["resultaten"]:
        if result["label"] == "Toetsadvies":
            result["waarde"] = toetsadvies
    return message


def as_beheer(served: Served) -> list[str]:
    """`--as` an active beheer account for a change on the command line, once the installation
    has one (before, the change is recorded as the installation's: no `--as` then)."""
    for line in served.cli("user", "list").splitlines():
        email, role, *_ = line.split("  ")
        if role == "beheer" and not line.endswith("(uitgeschakeld)"):
            return ["--as", email]
    return []


def mandated_provider(served: Served, brin: str, edu_to: str, oin: str) -> Provider:
    """The school's routing set, a provider's client added for it, and its bearer token."""
    acting = as_beheer(served)
    served.cli("school", "routing", brin, "--edu-to", edu_to, "--oin", oin, *acting)
    contact = f"koppeling-{brin.lower()}-{uuid.uuid4().hex[:6]}@toets.example"
    printed = served.cli(
        "client", "add", contact, "--name", "IEP-koppeling", "--school", brin, *acting
    )
    fields = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": fields["client_id"],
            "client_secret": fields["client_secret"],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback URL of the served test app)
        served.url("/api/v1/oauth/token"), data=form, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        token = json.loads(answer.read())["access_token"]
    return Provider(served, token, edu_to, oin)
