"""Posting a chain message to the school's test provider, as the standard's client.

`POST {provider_url}{path}?edu-to={school OIN}&edu-from={routeringskenmerk}` with the JSON body;
the standard has the provider answer 202 with an Ontvangstmelding, and any 2xx is taken as
received (a provider answering 200 or 204 has the message: sending it again would only deliver
it twice). A refusal (401, 403 inschrijving gesloten, 405 school unknown, 422 invalid content)
will not change by trying again: `ChainRefusedError`, which the outbox records as failed at once,
with the provider's melding, for an operator. So is a redirect: it is not followed (urllib would
turn the POST into a GET, and a GET's 200 is no delivery); the provider_url needs correcting. Any
other answer or a network failure is `ChainUnavailableError`: the outbox retries with backoff.
The optional bearer token (ADVIESTRAJECT_CHAIN_TOKEN) is sent as `Authorization: Bearer …`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from service.chain.messages import ChainSchool
from service.shared.delivery import GiveUpError

REFUSALS = {400, 401, 403, 404, 405, 409, 413, 415, 422}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirects)


class ChainRefusedError(GiveUpError):
    """The provider said no to this message: sending it again will not help."""


class ChainUnavailableError(Exception):
    """The provider could not be reached or failed: try again later."""


def send(
    school: ChainSchool,
    path: str,
    message: dict[str, Any],
    *,
    token: str | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Post the message; the provider's Ontvangstmelding (empty when a 2xx has no body)."""
    missing = school.missing()
    if missing:
        raise ChainRefusedError(f"{school.brin}: ketengegevens ontbreken: {', '.join(missing)}")
    query = urllib.parse.urlencode({"edu-to": school.oin, "edu-from": school.edu_route})
    url = f"{str(school.provider_url).rstrip('/')}{path}?{query}"
    if not url.startswith(("https://", "http://")):
        raise ChainRefusedError(f"{school.brin}: provider_url {school.provider_url!r} is geen URL")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=json.dumps(message).encode(), headers=headers, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
        if 300 <= status < 400:
            where = error.headers.get("Location", "?")
            raise ChainRefusedError(
                f"{path}: {status} doorverwezen naar {where}: pas provider_url aan"
            ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ChainUnavailableError(f"{url}: {getattr(error, 'reason', error)}") from None
    melding = _melding(body)
    if 200 <= status < 300:
        return melding
    said = melding.get("melding") or body[:200].decode(errors="replace")
    if status in REFUSALS:
        raise ChainRefusedError(f"{path}: {status} {said}")
    raise ChainUnavailableError(f"{path}: {status} {said}")


def _melding(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
