"""Which addresses the runners may connect to (SSRF policy), checked on the resolved address at connect time.

Link-local addresses and cloud metadata services are never reachable: a pasted
endpoint or token URL must not read a cloud instance's credentials. Loopback and
private ranges are the operator's choice: blocked with RUNNERS_BLOCK_PRIVATE_NETWORKS
(the default when DJANGO_DEBUG is false), except the CIDRs listed in
RUNNERS_ALLOWED_NETWORKS (the in-house gateways an organisation really uses).

The check runs where the socket is opened (`PolicyNetworkBackend`, an httpcore
network backend used by the runners' one shared client): the host name is
resolved once, every address it resolves to is checked, and the connection goes
to a checked address, so a name that re-resolves to a blocked address between a
check and the connect (DNS rebinding) is refused. `url_blocked_reason()` is the
same rule for literal addresses, used when a document is saved.
"""

import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Never reachable, whatever the settings say.
ALWAYS_BLOCKED = [
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local, including 169.254.169.254 (cloud metadata)
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata service over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata service
    ipaddress.ip_network("224.0.0.0/4"),  # multicast
    ipaddress.ip_network("ff00::/8"),
    ipaddress.ip_network("255.255.255.255/32"),
]
# Loopback and private ranges: blocked only with RUNNERS_BLOCK_PRIVATE_NETWORKS.
PRIVATE = [
    ipaddress.ip_network("0.0.0.0/8"),  # "this host": connecting to 0.0.0.0 reaches loopback
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.ip_network("::/128"),
    ipaddress.ip_network("::1/128"),
    ipaddress.ip_network("fc00::/7"),  # unique local
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddress(Exception):
    """A connection the policy refuses; the message names the host and address, never a path or a secret."""


PRIVATE_REFUSED = (
    "loopback and private network addresses are blocked (RUNNERS_BLOCK_PRIVATE_NETWORKS is true; an operator can "
    "list the ranges that stay reachable in RUNNERS_ALLOWED_NETWORKS)"
)


def block_private_networks() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "RUNNERS_BLOCK_PRIVATE_NETWORKS", False))


def allowed_networks() -> list[Network]:
    """RUNNERS_ALLOWED_NETWORKS as networks (settings hold them parsed; strings are accepted too)."""
    from django.conf import settings

    return [ipaddress.ip_network(network) for network in getattr(settings, "RUNNERS_ALLOWED_NETWORKS", ())]


def _embedded_ipv4(address: Address) -> Address:
    """The IPv4 address an IPv6 address stands for (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64), or itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible form
            return ipaddress.IPv4Address(int(address))
    return address


def _in_any(candidates: set[Address], networks: Iterable[Network]) -> bool:
    return any(c in network for network in networks for c in candidates if network.version == c.version)


def blocked_reason(address: Address, *, block_private: bool, allowed: Iterable[Network] = ()) -> str | None:
    """Why connecting to `address` is refused, or None when it is allowed.

    `allowed` (RUNNERS_ALLOWED_NETWORKS) exempts private addresses from `block_private`, never the link-local and
    metadata ones.
    """
    candidates = {address, _embedded_ipv4(address)}
    if _in_any(candidates, ALWAYS_BLOCKED):
        return "link-local and cloud metadata addresses are never allowed"
    if block_private and _in_any(candidates, PRIVATE) and not _in_any(candidates, allowed):
        return PRIVATE_REFUSED
    return None


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def literal_address(host: str) -> Address | None:
    """The address a URL host denotes when it is an IP literal in any form a resolver accepts, else None.

    IPv4 as in inet_aton and the WHATWG URL standard: 1 to 4 parts, each decimal, 0x-hex or 0-octal, the last
    part filling the remaining bytes (`2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`, `169.254.43518`).
    """
    host = host.strip("[]").split("%", 1)[0]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    parts = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *leading, last = typing.cast(list[int], numbers)
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def url_blocked_reason(url: str, *, block_private: bool | None = None) -> str | None:
    """Save-time check of a URL whose host is an IP literal; host names are checked when the runner connects."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    address = literal_address(host) if host else None
    if address is None:
        return None
    private = block_private_networks() if block_private is None else block_private
    reason = blocked_reason(address, block_private=private, allowed=allowed_networks())
    if reason is None:
        return None
    shown = f"The address {address}" if str(address) == host else f'The host "{host}" (address {address})'
    return f"{shown} is not allowed: {reason}."


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


async def checked_addresses(
    host: str, port: int, *, resolver: Resolver = system_resolver, block_private: bool | None = None
) -> list[Address]:
    """Resolve `host` once and return its addresses if every one is allowed; BlockedAddress otherwise."""
    private = block_private_networks() if block_private is None else block_private
    allowed = allowed_networks()
    literal = literal_address(host)  # every IP spelling, including ones a resolver would refuse (a trailing dot)
    if literal is not None:
        resolved = [literal]
    else:
        resolved = _unique(ipaddress.ip_address(found.split("%", 1)[0]) for found in await resolver(host, port))
    if not resolved:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    for address in resolved:
        reason = blocked_reason(address, block_private=private, allowed=allowed)
        if reason:
            shown = host if str(address) == host else f"{host} ({address})"
            raise BlockedAddress(f"Connecting to {shown} was refused: {reason}.")
    return resolved


def _unique(addresses: Iterable[Address]) -> list[Address]:
    return list(dict.fromkeys(addresses))


class PolicyNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then connects to a checked address (never re-resolving the name)."""

    def __init__(self, *, resolver: Resolver = system_resolver, block_private: bool | None = None) -> None:
        self._backend = httpcore.AnyIOBackend()
        self._resolver = resolver
        self._block_private = block_private

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            with anyio.fail_after(timeout):
                addresses = await checked_addresses(
                    host, port, resolver=self._resolver, block_private=self._block_private
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except (BlockedAddress, OSError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise typing.cast(Exception, error)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("Unix sockets are not a provider address.")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def policy_transport(
    *, limits: httpx.Limits, resolver: Resolver = system_resolver, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through the policy (no proxy: a proxy would hide the address; see
    core.egress for the operator's proxy). `verify`: the SSL context (an integration's own trust and client
    certificate, runners.tls), or True for httpx's default."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=verify)
    transport._pool._network_backend = PolicyNetworkBackend(resolver=resolver)  # httpcore has no public setter
    return transport
