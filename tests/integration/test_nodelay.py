"""The served HTTP connections switch Nagle's algorithm off, also with several workers.

With `--workers N` uvicorn binds the socket itself (protocol number 0), and asyncio then leaves
Nagle on: every keep-alive response waited ~40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from service.api.nodelay import NoDelayH11Protocol


async def _nodelay_of(protocol_class: type[H11Protocol]) -> int:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("no request is sent")

    config = Config(app=app)
    config.load()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn binds for workers
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    loop = asyncio.get_running_loop()
    transport, _protocol = await loop.connect_accepted_socket(
        lambda: protocol_class(config, ServerState(), {}), accepted
    )
    try:
        nodelay: int = transport.get_extra_info("socket").getsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY
        )
        return nodelay
    finally:
        transport.close()
        client.close()
        listener.close()


@pytest.mark.parametrize(("protocol", "expected"), [(H11Protocol, 0), (NoDelayH11Protocol, 1)])
def test_a_connection_accepted_on_a_worker_socket_has_nagle_off(
    protocol: type[H11Protocol], expected: int
) -> None:
    assert bool(asyncio.run(_nodelay_of(protocol))) == bool(expected)
