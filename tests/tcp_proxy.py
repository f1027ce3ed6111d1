"""A TCP proxy on 127.0.0.1 that a test cuts and restores: what a server restart looks like to a client.

`cut()` closes every connection through it and refuses new ones (accepted and closed at once, as a
server that is going down or coming up does); `restore()` lets connections through again.
"""
from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.open = True
        self.connections: set[asyncio.StreamWriter] = set()
        self.accepted = 0
        self.refused = 0

    async def start(self) -> "TcpProxy":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.open = False
        self._drop_all()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def cut(self) -> None:
        self.open = False
        self._drop_all()

    def restore(self) -> None:
        self.open = True

    def _drop_all(self) -> None:
        for writer in list(self.connections):
            writer.transport.abort()  # a reset, not a polite FIN: the server went away
        self.connections.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        self.connections.update((writer, upstream_writer))
        try:
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        finally:
            for end in (writer, upstream_writer):
                self.connections.discard(end)
                end.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
