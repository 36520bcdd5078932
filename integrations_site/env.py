"""Typed readers for environment variables that fail loudly on bad values."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def envnetworks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated CIDRs (`10.20.0.0/16,fd00:1::/64`); a bare address is a network of one."""
    networks = []
    for item in envlist(name, []):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be comma-separated CIDRs; {item!r} is not one ({exc})") from None
    return networks


_PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def envrate(name: str, default: str) -> str | None:
    """A request rate `N/period` (period second, minute, hour or day, DRF's format), or None for `off`."""
    raw = (os.environ.get(name) or default).strip().lower()
    if raw in {"off", "none", "0"}:
        return None
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or period[:1] not in _PERIODS or _PERIODS[period[:1]] != period:
        raise ImproperlyConfigured(f"{name} must be N/second, N/minute, N/hour or N/day (or off), not {raw!r}")
    return raw


MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 16


def weak_key_reason(key: str, *, secret_key: str | None = None) -> str | None:
    """Why a configured key is too weak for production (too short, too few distinct characters, the secret key)."""
    if len(key) < MIN_KEY_LENGTH:
        return f"{len(key)} characters, fewer than {MIN_KEY_LENGTH}"
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return f"only {len(set(key))} distinct characters, fewer than {MIN_DISTINCT_CHARACTERS}"
    if key == secret_key:
        return "it is DJANGO_SECRET_KEY"
    return None


def envproxy(name: str, bypass_name: str):
    """The runners' outbound proxy (`http://proxy.internal:3128`, credentials in the URL allowed) and the hosts
    that bypass it, as core.egress.ProxySettings; None when `name` is unset or empty (the default)."""
    from urllib.parse import urlsplit

    from core.egress import ProxySettings, parse_proxy_bypass

    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        # Never echo the value: it may carry the proxy's credentials.
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL with a host, such as http://proxy:3128")
    try:
        hosts, networks = parse_proxy_bypass(envlist(bypass_name, []))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{bypass_name}: {exc}") from None
    return ProxySettings(url=raw, bypass_hosts=hosts, bypass_networks=networks)
