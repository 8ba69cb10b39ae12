"""One webhook POST: checked address, signed body, timeouts, no redirects, a 1 KB excerpt.

The request goes to the address that passed the SSRF check (``addresses``), with the URL's host
name in the Host header and, for https, in TLS SNI and certificate checking, so a name that
re-resolves elsewhere between the check and the connection cannot redirect it.

httpx is imported when a client is made or a POST sent, not with this module: with it come rich and
pygments (httpx's command line), about 7 MB of memory that a serving process whose webhook worker
is turned off never needs."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.models.webhooks import MAX_EXCERPT_BYTES
from portal.webhooks.addresses import IPNetwork, UnsafeUrl, safe_addresses

if TYPE_CHECKING:
    import httpx

USER_AGENT = "EmployerHealthPortal-Webhooks/1.0"
MAX_ERROR_LENGTH = 500
MAX_ADDRESSES_TRIED = 3


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int | None
    error: str | None
    excerpt: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class SendPolicy:
    allow_http: bool
    allowed_networks: Sequence[IPNetwork]
    connect_timeout: float
    read_timeout: float


def new_client(policy: SendPolicy) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,  # never through a proxy from the environment: the address is checked
        timeout=httpx.Timeout(
            connect=policy.connect_timeout,
            read=policy.read_timeout,
            write=policy.read_timeout,
            pool=policy.connect_timeout,
        ),
        headers={"user-agent": USER_AGENT},
        # No connection reuse: a kept-alive TLS connection to an address was verified for one
        # host name, and another endpoint's host name may resolve to the same address.
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _excerpt(data: bytes) -> str | None:
    if not data:
        return None
    # Decoding never grows the bytes (invalid ones are dropped), so this stays within 1 KB.
    return data[:MAX_EXCERPT_BYTES].decode("utf-8", errors="ignore").replace("\x00", "")


async def post(
    client: httpx.AsyncClient,
    policy: SendPolicy,
    *,
    url: str,
    headers: dict[str, str],
    body: bytes,
) -> Outcome:
    """POST ``body`` to ``url``; never raises: every failure is an Outcome with an error."""
    import httpx

    try:
        parts, addresses = await safe_addresses(
            url, allow_http=policy.allow_http, allowed_networks=policy.allowed_networks
        )
    except UnsafeUrl as refused:
        return Outcome(status_code=None, latency_ms=None, error=str(refused), excerpt=None)
    host = parts.hostname
    assert host is not None
    host_header = parts.netloc.rpartition("@")[2]
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    started = time.monotonic()
    error = "no address to connect to"
    # Each checked address in turn, while the connection itself fails (nothing was sent yet).
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        target = parts._replace(netloc=netloc).geturl()
        try:
            return await _post_once(
                client,
                policy,
                target=target,
                headers={**headers, "host": host_header, "content-type": "application/json"},
                body=body,
                extensions=extensions,
                started=started,
            )
        except httpx.ConnectError as failure:
            error = f"ConnectError: {failure}"
            continue
        except (httpx.TimeoutException, TimeoutError):
            error = (
                f"timed out (connect {policy.connect_timeout:g}s, read {policy.read_timeout:g}s)"
            )
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        except OSError as failure:
            error = f"{type(failure).__name__}: {failure.strerror or failure}"
        break
    latency = int((time.monotonic() - started) * 1000)
    return Outcome(
        status_code=None, latency_ms=latency, error=error[:MAX_ERROR_LENGTH], excerpt=None
    )


async def _post_once(
    client: httpx.AsyncClient,
    policy: SendPolicy,
    *,
    target: str,
    headers: dict[str, str],
    body: bytes,
    extensions: dict[str, str],
    started: float,
) -> Outcome:
    async with asyncio.timeout(policy.connect_timeout + policy.read_timeout):
        async with client.stream(
            "POST", target, content=body, headers=headers, extensions=extensions
        ) as response:
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received.extend(chunk)
                if len(received) >= MAX_EXCERPT_BYTES:
                    break  # the rest of the body is never read, let alone stored
            latency = int((time.monotonic() - started) * 1000)
            error = None
            if not 200 <= response.status_code < 300:
                error = f"the endpoint answered HTTP {response.status_code}"
                if 300 <= response.status_code < 400:
                    error += " (redirects are not followed)"
            return Outcome(
                status_code=response.status_code,
                latency_ms=latency,
                error=error,
                excerpt=_excerpt(bytes(received)),
            )
