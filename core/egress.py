"""How the runners reach providers: straight to a checked address, or through the operator's outbound proxy.

Without RUNNERS_HTTPS_PROXY (the default) every connection goes through the address policy
(core.network_policy.PolicyNetworkBackend): the host name is resolved here, and every address is checked.

With RUNNERS_HTTPS_PROXY, the proxy resolves and connects, so the resolved address is out of the runners' sight.
What can still be checked, and is, before the request is handed to the proxy (`proxied_host_blocked_reason`):
- a literal address in the URL, in every spelling a resolver accepts (`169.254.169.254`, `0xa9fea9fe`, `[::1]`),
  by the same rule as a direct connection;
- names that denote a refused address without any lookup: `localhost` and `*.localhost` (RFC 6761 §6.3: always
  loopback) when private networks are blocked, and the cloud metadata services' names (METADATA_NAMES), always.
A name that merely resolves to a private or metadata address is the proxy's to refuse: configure the proxy's own
access rules for that. Hosts in RUNNERS_PROXY_BYPASS skip the proxy and get the full check of a direct connection.
The connection to the proxy itself is the operator's choice and is not checked (a proxy is usually private).
`HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` are ignored (trust_env=False): an environment variable meant for other
tools must not silently take the address policy's view away.
"""

import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from core.network_policy import (
    PRIVATE_REFUSED,
    BlockedAddress,
    Network,
    allowed_networks,
    block_private_networks,
    blocked_reason,
    literal_address,
    policy_transport,
)

# Names of cloud metadata services, refused like their addresses (link-local 169.254.169.254 and friends).
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)


@dataclass(frozen=True)
class ProxySettings:
    """RUNNERS_HTTPS_PROXY and RUNNERS_PROXY_BYPASS, parsed (integrations_site.env.envproxy)."""

    url: str
    bypass_hosts: tuple[str, ...] = ()  # exact names, or ".suffix" for a domain and its subdomains
    bypass_networks: tuple[Network, ...] = ()  # for hosts written as a literal address

    def bypassed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        address = literal_address(host)
        if address is not None:
            return any(address in network for network in self.bypass_networks if network.version == address.version)
        return any(
            host == entry.lstrip(".") or (entry.startswith(".") and host.endswith(entry)) for entry in self.bypass_hosts
        )


def parse_proxy_bypass(entries: Sequence[str]) -> tuple[tuple[str, ...], tuple[Network, ...]]:
    """Bypass entries as (host names and ".suffix"es, networks); `*.example.com` is read as `.example.com`.

    Raises ValueError naming an entry that is none of a host name, a domain suffix, an address or a CIDR.
    """
    hosts, networks = [], []
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if entry.startswith("*."):
            entry = entry[1:]
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]")))
            continue
        except ValueError:
            pass
        name = entry.lstrip(".")
        if not name or not all(part and (part.replace("-", "").isalnum()) for part in name.split(".")):
            raise ValueError(f"{raw!r} is not a host name, a .domain suffix, an address or a CIDR")
        hosts.append(entry)
    return tuple(hosts), tuple(networks)


def proxy_settings() -> ProxySettings | None:
    from django.conf import settings

    return getattr(settings, "RUNNERS_PROXY", None)


def proxied_host_blocked_reason(host: str, *, block_private: bool | None = None) -> str | None:
    """Why a request to `host` must not be handed to the proxy (a literal address or a name the policy refuses)."""
    private = block_private_networks() if block_private is None else block_private
    address = literal_address(host)
    if address is not None:
        reason = blocked_reason(address, block_private=private, allowed=allowed_networks())
        return f"Connecting to {host} was refused: {reason}." if reason else None
    name = host.lower().rstrip(".")
    if name in METADATA_NAMES:
        return f'Connecting to {host} was refused: "{name}" is a cloud metadata service\'s name.'
    if private and (name == "localhost" or name.endswith(".localhost")):
        return f"Connecting to {host} was refused: {PRIVATE_REFUSED}."
    return None


class EgressTransport(httpx.AsyncBaseTransport):
    """Sends each request through the proxy, after the checks a proxy leaves possible, or directly when the host
    is bypassed (full address policy). Refusals are httpx.ConnectError caused by core.network_policy.BlockedAddress.
    """

    def __init__(self, *, proxy: ProxySettings, limits: httpx.Limits, verify: ssl.SSLContext | bool = True) -> None:
        self._proxy = proxy
        self._proxied = httpx.AsyncHTTPTransport(proxy=httpx.Proxy(proxy.url), limits=limits, verify=verify)
        self._direct = policy_transport(limits=limits, verify=verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if self._proxy.bypassed(host):
            return await self._direct.handle_async_request(request)
        reason = proxied_host_blocked_reason(host)
        if reason:
            raise httpx.ConnectError(reason, request=request) from BlockedAddress(reason)
        try:
            return await self._proxied.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if _caused_by(exc, ssl.SSLError):  # the TLS handshake with the endpoint, through the tunnel
                raise
            # Every TCP connection goes to the proxy: failing to open one means the proxy is unreachable.
            raise httpx.ProxyError(f"the proxy could not be reached: {type(exc).__name__}", request=request) from exc

    async def aclose(self) -> None:
        await self._proxied.aclose()
        await self._direct.aclose()


def _caused_by(exc: BaseException | None, kind: type[BaseException]) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def egress_client(*, limits: httpx.Limits, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The runners' HTTP client: the address policy on every connection, the operator's proxy when configured.

    Redirects are reported, not followed; proxy variables from the environment are ignored.
    """
    proxy = proxy_settings()
    if proxy is None:
        transport: httpx.AsyncBaseTransport = policy_transport(limits=limits, verify=verify)
    else:
        transport = EgressTransport(proxy=proxy, limits=limits, verify=verify)
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
