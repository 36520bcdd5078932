"""Request throttling per API key (per user for the browser's session), counted in the shared cache."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """At most API_THROTTLE_RATE requests per API key; a throttled request is a 429 with Retry-After (seconds).

    An API-key request is counted under its key's digest (a user's keys are throttled separately), a session request
    under its user. Unauthenticated requests are refused by authentication before they count.
    """

    scope = "api"
    cache_format = "throttle:api:%(ident)s"

    def get_rate(self) -> str | None:
        # Read at request time (not import time, as DRF's default does) so that a change of settings applies.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str | None:
        if request.user is None or not request.user.is_authenticated:
            return None
        ident = f"key:{request.auth}" if isinstance(request.auth, str) else f"user:{request.user.pk}"
        return self.cache_format % {"ident": ident}
