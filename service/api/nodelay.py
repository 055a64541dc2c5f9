"""The HTTP protocol uvicorn runs, with TCP_NODELAY on every connection.

With `--workers N` uvicorn binds the listening socket itself and hands it to the worker
processes; the accepted sockets then have protocol number 0, and asyncio only switches Nagle's
algorithm off for sockets that say IPPROTO_TCP. Nagle plus the client's delayed ACK held every
response on a keep-alive connection for ~40 ms (measured: 44 ms per GET /health with two
workers, 4 ms with one). Setting the option on each accepted connection removes the stall.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
