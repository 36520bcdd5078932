"""/healthz, /readyz and /metrics: plain views, unauthenticated (probes) or guarded by operations.access (metrics).
They answer with nothing beyond their status: no version, host name or error text."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from operations.access import metrics_refusal
from operations.collector import metrics_exposition
from operations.health import readiness_failures

logger = logging.getLogger(__name__)

_NO_STORE = {"Cache-Control": "no-store"}


def healthz(request: HttpRequest) -> HttpResponse:
    """200 {"status": "ok"} whenever the process answers; it touches neither the database nor the broker."""
    return JsonResponse({"status": "ok"}, headers=_NO_STORE)


def readyz(request: HttpRequest) -> HttpResponse:
    """200 {"status": "ok"}, or 503 {"status": "unavailable", "failed": ["database" | "broker", ...]}."""
    failed = readiness_failures()
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503, headers=_NO_STORE)
    return JsonResponse({"status": "ok"}, headers=_NO_STORE)


def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format; 404, 403 or 401 when refused (operations.access), 503 if Redis cannot be read."""
    refusal = metrics_refusal(request)
    if refusal is not None:
        headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if refusal == 401 else {}
        return HttpResponse(status=refusal, headers={**headers, **_NO_STORE})
    try:
        body = metrics_exposition()
    except Exception as exc:
        logger.warning("metrics scrape failed: %s", type(exc).__name__)
        return HttpResponse(status=503, headers=_NO_STORE)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)
