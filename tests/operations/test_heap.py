"""The web worker keeps what the loaded application holds out of the garbage collector's full passes (core.heap)."""

import gc
import re
import sys

import httpx
import pytest

from core.heap import heap_freeze
from tests.operations.test_health import web_server  # noqa: F401 (fixture)


def test_heap_freeze_loads_every_view_then_freezes_what_is_alive():
    try:
        frozen = heap_freeze()
        assert frozen > 50_000 and gc.get_freeze_count() > 50_000  # (frozen objects can still be freed)
        assert "api.views.evaluations" in sys.modules  # the URLconf imported the views
        # A full pass no longer walks them: it sees only what is outside the permanent generation.
        assert len(gc.get_objects()) < frozen
    finally:
        gc.unfreeze()


@pytest.mark.slow
def test_the_production_web_worker_freezes_its_heap_after_loading(web_server):  # noqa: F811
    server = web_server()
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    frozen = re.search(r"froze (\d+) objects of the loaded application", server.log())
    assert frozen and int(frozen.group(1)) > 50_000, server.log()
