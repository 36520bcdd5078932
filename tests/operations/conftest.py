import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.runners.conftest import enqueue, fast_runner_settings, integrate  # noqa: F401 (fixtures)

METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def clean_metrics(settings):
    """This session's stored series emptied (they live in Redis under its own queue's prefix)."""
    from core.metrics_store import _admitted, metrics_client, metrics_flush, metrics_key

    metrics_flush()  # what earlier tests' runs left pending in this process goes before the slate is wiped
    _admitted.clear()
    client = metrics_client()
    for key in client.scan_iter(match=metrics_key("*")):
        client.delete(key)
    settings.METRICS_TOKEN = METRICS_TOKEN
    yield
    for key in client.scan_iter(match=metrics_key("*")):
        client.delete(key)


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, frozenset of label items): value}"""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, frozenset(labels.items())))


def scrape_until(client, condition, timeout: float = 10) -> dict:
    """Scrape until `condition(samples)` holds (a worker records a run's metrics just after storing it)."""
    deadline = time.monotonic() + timeout
    while True:
        found = samples(scrape(client))
        if condition(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"metrics never matched: {found}")
        time.sleep(0.05)
