"""Serves /healthz, /readyz and /metrics ahead of every other middleware.

Load balancers, kubelets and Prometheus reach a process by its IP address and over plain HTTP: behind the host
check (DJANGO_ALLOWED_HOSTS) and the HTTPS redirect they would only ever see 400 or 301. These paths answer before
either (and before sessions, CSRF and authentication, which they do not use); every other request goes on as usual.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from operations import views

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
    "/metrics": views.metrics,
}


class OperationsEndpointsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = ENDPOINTS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return view(request)
