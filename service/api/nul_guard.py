"""No NUL character gets in: PostgreSQL text cannot hold one, so it is refused at the door.

A NUL (U+0000) in a path, query or body could only reach the database and fail there as a
server error. This plain ASGI middleware answers 422 first — `application/problem+json`, or the
chain standard's `Ontvangstmelding` on its own paths — and nothing is stored. A body is read
whole (the service's bodies are small) and handed on unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# a JSON escape \u0000 (not itself escaped) or a raw NUL; in a URL or form, an encoded %00
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")
_ENCODED_NUL = re.compile(rb"%00|\x00")
CHAIN_PREFIX = "/doorstroomtoetsketen/"


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if "\x00" in path or _ENCODED_NUL.search(scope.get("query_string", b"")):
            await _refuse(scope, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        form = _header(scope, b"content-type").startswith(b"application/x-www-form-urlencoded")
        if _NUL.search(body) or (form and _ENCODED_NUL.search(body)):
            await _refuse(scope, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            found: bytes = value
            return found
    return b""


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def _refuse(scope: Scope, send: Send) -> None:
    text = "tekst met een NUL-teken (U+0000) is niet toegestaan"
    request_id = scope.get("state", {}).get("request_id")
    body: dict[str, Any]
    if scope["path"].startswith(CHAIN_PREFIX):
        media = b"application/json"
        body = {"melding": f"Bericht ontvangen maar heeft ongeldige berichtinhoud: {text}."}
    else:
        media = b"application/problem+json"
        body = {
            "type": "/problems/nul_character",
            "title": "De invoer is ongeldig",
            "status": 422,
            "detail": text,
            "instance": scope["path"],
        }
    body |= {"code": "nul_character", "status": 422}
    if request_id:
        body["request_id"] = request_id
    payload = orjson.dumps(body)
    headers = [(b"content-type", media), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
