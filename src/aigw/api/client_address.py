"""The client's IP address, for per-IP rate limits and the failed-authentication throttle.

The peer of the socket is the client, unless it is one of `AI_TRUSTED_PROXIES`. Then
`X-Forwarded-For` is read from the right, the end each proxy appends to: the right-most address
that is not a trusted proxy is the client (everything left of it was written by that client and
proves nothing). Without trusted proxies the header is never read, so a client cannot choose its
own address. The header is bounded (its last `_MAX_HEADER_CHARS` characters, `_MAX_HOPS` hops)
before it is split.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_HEADER_CHARS = 2048
_MAX_HOPS = 32


class ClientAddress:
    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    def of(self, scope: Scope) -> str | None:
        """The client's address for `scope`: the peer, or what trusted proxies say of it."""
        client = scope.get("client")
        peer: str | None = client[0] if client else None
        if not self._trusted or peer is None or not self._is_trusted(_address(peer)):
            return peer
        hops = _forwarded_hops(scope)
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return peer  # a trusted proxy wrote something that is not an address: trust none of it
            if not self._is_trusted(address):
                return str(address)
        first = _address(hops[0]) if hops else None  # every hop is a trusted proxy: the first one asked
        return str(first) if first is not None else peer

    def _is_trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self._trusted)


def _forwarded_hops(scope: Scope) -> list[str]:
    values = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
    joined = ",".join(values)
    if len(joined) > _MAX_HEADER_CHARS:
        joined = joined[-_MAX_HEADER_CHARS:].partition(",")[2]  # drop the hop the cut went through
    hops = [hop.strip() for hop in joined.split(",")]
    return [hop for hop in hops if hop][-_MAX_HOPS:]


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
