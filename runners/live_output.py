"""A streaming run's partial output, published to the shared cache while it runs and cleared once it is stored."""

from django.conf import settings
from django.core.cache import cache


def live_output_key(run_id) -> str:
    return f"runners:live:{run_id}"


def live_output_publish(*, run_id, text: str) -> None:
    # Expires on its own if the worker dies mid-stream (a lost run is taken over after that time).
    cache.set(live_output_key(run_id), text, timeout=settings.RUNNERS_LOST_AFTER_SECONDS)


def live_output_get(*, run_id) -> str | None:
    return cache.get(live_output_key(run_id))


def live_output_clear(*, run_id) -> None:
    cache.delete(live_output_key(run_id))
