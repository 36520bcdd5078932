"""Sign-in throttling with django-axes (LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES, LOGIN_PROXY_COUNT)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """The address a sign-in attempt comes from, as the operator's proxies saw it.

    With LOGIN_PROXY_COUNT = N > 0, the Nth X-Forwarded-For entry from the right (the one the outermost trusted
    proxy appended); REMOTE_ADDR otherwise, or when the header has fewer entries than that.
    """
    count = settings.LOGIN_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """The page a locked-out sign-in gets: HTTP 429 with Retry-After, saying why and for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
