"""Round trips to PostgreSQL, counted on the wire: a loopback TCP proxy in front of the server.

A round trip is a client message the client then waits on: a Sync (extended protocol: Parse/Bind/
Execute ... Sync) or a simple Query. The proxy refuses TLS (answers ``N`` to an SSLRequest) so
it can read the messages, and forwards everything else unchanged. Used only by the benchmark's
counting pass, never while timing."""

from __future__ import annotations

import asyncio
import contextlib
import struct

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_ROUND_TRIP_MESSAGES = (b"S", b"Q")
_STATEMENT_MESSAGES = (b"P", b"Q")


class RoundTripCounter:
    def __init__(self, host: str, port: int, *, record: bool = False) -> None:
        self.host = host
        self.port = port
        self.count = 0
        self.record = record
        self.statements: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        back = asyncio.create_task(_pipe(upstream_reader, writer))
        try:
            while True:  # untyped start-up messages: length, code
                head = await reader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    writer.write(b"N")
                    await writer.drain()
                    continue
                upstream_writer.write(head + await reader.readexactly(length - 8))
                break
            while True:  # typed messages: kind, length (itself included), body
                head = await reader.readexactly(5)
                body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
                if head[:1] in _ROUND_TRIP_MESSAGES:
                    self.count += 1
                if self.record and head[:1] in _STATEMENT_MESSAGES:
                    self.statements.append(_statement_text(head[:1], body))
                upstream_writer.write(head + body)
                await upstream_writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            upstream_writer.close()
            back.cancel()
            with contextlib.suppress(BaseException):
                await back
            writer.close()


def _statement_text(kind: bytes, body: bytes) -> str:
    """The SQL of a Parse (statement name, NUL, query, NUL, ...) or a Query (query, NUL)."""
    if kind == b"P":
        body = body[body.index(b"\0") + 1 :]
    return body[: body.index(b"\0")].decode(errors="replace")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
