"""Request bodies are bounded before anything reads them: in size and in the time they take.

A plain ASGI middleware, just inside the request id (which reads no body) and outside everything
that does. A `Content-Length` over the limit is answered 413 at once, without reading a byte (a
client that sent `Expect: 100-continue` is never asked for the body); a body without one
(chunked) is counted while it arrives and cut off with 413 as soon as it passes the limit. The
whole body must arrive within `timeout` seconds, or the answer is 408: a client trickling a byte
a second cannot hold a worker for ever. Both answers close the connection, as the rest of the
body is not read.

The body is read here and handed on whole (the service's bodies are small, and the NUL guard
reads it whole anyway). The chain standard's path has its own limit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHAIN_PREFIX = "/doorstroomtoetsketen/"


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int = 1024 * 1024
    """The JSON API and the web forms: a bulk enrolment of 500 pupils is ~100 KB."""
    max_chain_bytes: int = 2 * 1024 * 1024
    """The chain standard's endpoint: one pupil's result is a few KB; room for a verbose sender."""
    timeout: float = 30.0
    """Seconds from the first read until the last byte of the body has arrived."""

    def for_path(self, path: str) -> int:
        return self.max_chain_bytes if path.startswith(CHAIN_PREFIX) else self.max_bytes


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits = BodyLimits()) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        try:
            messages = await self._read(scope, receive, limit)
        except _RefusedError as refused:
            await _answer(scope, send, refused)
            return
        await self.app(scope, _replay(messages, receive), send)

    async def _read(self, scope: Scope, receive: Receive, limit: int) -> list[Message]:
        too_large = _RefusedError(
            413,
            "body_too_large",
            "Het verzoek is te groot",
            f"een verzoek hier is hoogstens {limit} bytes",
        )
        length = _content_length(scope)
        if length is not None and length > limit:
            raise too_large
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.timeout
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _RefusedError(
                    408,
                    "body_timeout",
                    "Het verzoek kwam te langzaam binnen",
                    f"de body moet binnen {self.limits.timeout:g} seconden binnen zijn",
                ) from None
            if message["type"] != "http.request":  # the client went away
                return [message]
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we are called
    return None


def _replay(messages: list[Message], then: Receive) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        return await then()

    return receive


async def _answer(scope: Scope, send: Send, refused: _RefusedError) -> None:
    request_id = scope.get("state", {}).get("request_id")
    body: dict[str, object]
    if scope["path"].startswith(CHAIN_PREFIX):  # the standard's answers carry a `melding`
        media = b"application/json"
        body = {"melding": f"Bericht niet ontvangen: {refused.detail}."}
    else:
        media = b"application/problem+json"
        body = {
            "type": f"/problems/{refused.code}",
            "title": refused.title,
            "detail": refused.detail,
            "instance": scope["path"],
        }
    body |= {"code": refused.code, "status": refused.status}
    if request_id:
        body["request_id"] = request_id
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
