"""A streamed response that runs its closing work once it has ended, however it ended."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class StreamThenClose(StreamingResponse):
    """Streams ``content``, then closes it and runs ``close`` once the response has ended: after
    its last byte was sent (the client does not wait for ``close``), when the client left, or
    when the stream failed. ``close`` runs shielded from cancellation, exactly once, with the
    stream's own clean-up (its ``finally``) done first."""

    def __init__(
        self,
        content: AsyncGenerator[bytes, None],
        *,
        close: Callable[[], Awaitable[None]],
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._content = content
        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    # A stream cut off between two chunks is still suspended: end it now.
                    await self._content.aclose()
                finally:
                    await self._close()
