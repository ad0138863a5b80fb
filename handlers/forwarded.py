"""The client's address behind a load balancer: X-Forwarded-For, believed only from a trusted proxy.

Every limit keyed by address (sign-ins, registrations, socket connections) and every audit entry reads
``request.remote``. Behind nginx that is nginx's address for everyone, so one middleware, first in the
chain, replaces it with the client's. The header is read only when the peer is in TRUSTED_PROXIES: a
client talking to the server directly could write anything in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

Network = IPv4Network | IPv6Network


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket ("::ffff:203.0.113.9") is the IPv4 client.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(peer: str | None, trusted: Sequence[Network]) -> bool:
    """Whether the peer that sent a request is one of TRUSTED_PROXIES, whose forwarding headers
    (X-Forwarded-For, X-Request-ID) are believed."""
    address = _parse(peer) if peer is not None and trusted else None
    return address is not None and any(address in network for network in trusted)


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address: ``peer`` itself unless it is a trusted proxy; then the nearest address in
    X-Forwarded-For (read from the right, each hop appending the address it saw) that is not a trusted
    proxy. Entries left of that one were written by the client and are never believed. When every entry is
    a trusted proxy, the leftmost is the client; an unreadable entry ends the walk at the last hop that was
    readable."""
    if peer is None:
        return None
    if not is_trusted_proxy(peer, trusted):
        return peer
    current = _parse(peer)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break
        current = address
        if not any(address in network for network in trusted):
            break
    return str(current)


def client_address_middleware(trusted: Sequence[Network]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if trusted and hdrs.X_FORWARDED_FOR in request.headers:
            client = forwarded_client(request.remote, request.headers.getall(hdrs.X_FORWARDED_FOR), trusted)
            if client is not None and client != request.remote:
                request = request.clone(remote=client)
        return await handler(request)

    return middleware
