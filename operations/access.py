"""Who may read /metrics: the operator's bearer token (METRICS_TOKEN), addresses in METRICS_ALLOWED_NETWORKS, or
both when both are set. With neither, the endpoint is off (404), except from loopback addresses in debug."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _client_address(request: HttpRequest):
    # REMOTE_ADDR, never X-Forwarded-For: a scrape is meant to reach the web process directly, not through the
    # public proxy, and a forwarded header would let anyone claim an internal address.
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def metrics_refusal(request: HttpRequest) -> int | None:
    """The HTTP status that refuses this request (404 off, 403 address not allowed, 401 token missing or wrong),
    or None when it may read the metrics."""
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    address = _client_address(request)
    if not token and not networks:
        return None if settings.DEBUG and address is not None and address.is_loopback else 404
    if networks and not (address is not None and any(address in network for network in networks)):
        return 403
    if token and not hmac.compare_digest(_bearer_token(request).encode(), token.encode()):
        return 401
    return None
