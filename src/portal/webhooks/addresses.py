"""Where a webhook may be sent: never to the portal's own network (SSRF).

An endpoint's host is resolved and every address it resolves to is checked, at registration and
again before each delivery (DNS can change between the two); the delivery then connects to the
address that was checked, not to a second resolution of the name. Loopback, private, shared
(carrier-grade NAT), link-local, cloud-metadata and other non-routable addresses are refused
unless they fall inside one of ``PORTAL_WEBHOOK_ALLOWED_NETWORKS``."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services: AWS/GCP/Azure/OpenStack (IPv4 and AWS's IPv6), AWS ECS task
# metadata, Alibaba Cloud, Azure's wire server.
CLOUD_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",
        "fd00:ec2::254",
        "169.254.170.2",
        "100.100.100.200",
        "168.63.129.16",
    )
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
RESOLVE_TIMEOUT_SECONDS = 5.0


class AddressClass(StrEnum):
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    CLOUD_METADATA = "cloud-metadata"
    NON_ROUTABLE = "non-routable"


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message is safe to show to its owner."""


def classify(address: IPAddress) -> AddressClass | None:
    """The class of a forbidden address, or None for an ordinary public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in CLOUD_METADATA_ADDRESSES:
        return AddressClass.CLOUD_METADATA
    if address.is_unspecified:  # 0.0.0.0 and :: reach the host itself on most systems
        return AddressClass.NON_ROUTABLE
    if address.is_loopback:
        return AddressClass.LOOPBACK
    if address.is_link_local:
        return AddressClass.LINK_LOCAL
    if address.is_private or address in SHARED_ADDRESS_SPACE:
        return AddressClass.PRIVATE
    if address.is_multicast or address.is_reserved:
        return AddressClass.NON_ROUTABLE
    if not address.is_global:
        return AddressClass.NON_ROUTABLE
    return None


def redacted_url(url: str) -> str:
    """The URL without its query string (receivers sometimes put a token there), for emails,
    logs and the audit trail."""
    parts = urlsplit(url)
    shown = parts._replace(query="", fragment="").geturl()
    return shown + ("?…" if parts.query else "")


def check_url_shape(url: str, *, allow_http: bool) -> SplitResult:
    """Scheme, host and form; no address look-up yet."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl("This is not a valid URL.") from error
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeUrl(
            "Use an https:// URL." if not allow_http else "Use an http:// or https:// URL."
        )
    if not parts.hostname:
        raise UnsafeUrl("The URL needs a host name.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Put no user name or password in the URL: verify the signature instead.")
    if parts.fragment:
        raise UnsafeUrl("The URL may not have a #fragment.")
    if port == 0:
        raise UnsafeUrl("The URL's port is not valid.")
    return parts


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as error:
        raise UnsafeUrl(f"The host name {host!r} does not resolve.") from error
    addresses: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).partition("%")[0]  # drop an IPv6 zone index
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrl(f"The host name {host!r} does not resolve.")
    return addresses


def refusal(address: IPAddress, allowed: Sequence[IPNetwork]) -> AddressClass | None:
    kind = classify(address)
    if kind is None:
        return None
    plain = (
        address.ipv4_mapped
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None
        else address
    )
    if any(plain.version == network.version and plain in network for network in allowed):
        return None
    return kind


async def safe_addresses(
    url: str, *, allow_http: bool, allowed_networks: Sequence[IPNetwork]
) -> tuple[SplitResult, list[IPAddress]]:
    """The URL's parts and its addresses; ``UnsafeUrl`` if any address is forbidden (a name
    that resolves to one public and one private address is refused whole)."""
    parts = check_url_shape(url, allow_http=allow_http)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(parts.hostname, port)
    for address in addresses:
        kind = refusal(address, allowed_networks)
        if kind is not None:
            raise UnsafeUrl(
                f"Webhooks cannot be sent to {parts.hostname}: it resolves to a {kind.value} "
                "address, which the portal never calls."
            )
    return parts, addresses
