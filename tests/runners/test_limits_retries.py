"""requests_per_minute counts every request a provider receives, a run's retries too (runners.limits.request_again),
with real Redis; and without Redis (the embedded quickstart) a worker says at start that limits are not enforced."""

import logging
import os
import subprocess
import sys
import time

import pytest

from integrations.models import ModelProperty
from runners import limits
from runners.services import run_enqueue
from tests.fixtures.servers import Reply
from tests.fixtures.worker import BASE_DIR, database_url_for_subprocess, wait_for_run
from tests.runners.conftest import provider_document


@pytest.fixture(autouse=True)
def _fresh_limits():
    yield
    if limits.enabled():
        client = limits._client()
        for key in client.scan_iter(f"{limits.key_prefix()}*"):
            client.delete(key)


def _acquire(integration_id: int, run_id: str, rpm: int) -> limits.Decision:
    return limits.capacity_acquire(
        integration_id=integration_id, run_id=run_id, max_concurrency=None, requests_per_minute=rpm, deferrals=0
    )


def test_a_retry_takes_its_own_place_in_the_window_and_waits_when_there_is_none(db):
    if not limits.enabled():
        pytest.skip("needs REDIS_URL")
    integration_id = 900_001
    assert _acquire(integration_id, "a", 3).granted and _acquire(integration_id, "b", 3).granted
    far = time.monotonic() + 120
    assert limits.request_again(integration_id=integration_id, run_id="a", requests_per_minute=3, deadline=far)
    assert limits.usage_of([integration_id])[integration_id].sent_last_minute == 3
    # The window is full: the next place frees in ~61 s, after this deadline: not sent, and not counted.
    started = time.monotonic()
    assert not limits.request_again(
        integration_id=integration_id, run_id="b", requests_per_minute=3, deadline=time.monotonic() + 2
    )
    assert time.monotonic() - started < 1  # it did not sleep towards a deadline it could not meet
    assert limits.usage_of([integration_id])[integration_id].sent_last_minute == 3
    assert not _acquire(integration_id, "c", 3).granted  # a new run is refused as well
    # Without a limit (or without Redis) a retry always goes.
    assert limits.request_again(integration_id=integration_id, run_id="b", requests_per_minute=None, deadline=0)


def test_a_retry_after_a_429_counts_against_requests_per_minute_on_a_real_worker(
    celery_worker, openai_server, integrate, admin_user
):
    integration = integrate(provider_document(openai_server.url, requests_per_minute=10))
    openai_server.enqueue(Reply(status=429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}))
    run = run_enqueue(
        model=ModelProperty.objects.get(integration=integration),
        user=admin_user,
        messages=[{"role": "user", "content": "Hello there"}],
    )
    finished = wait_for_run(run.pk, timeout=30)
    assert finished.status == "succeeded" and len(finished.attempt_log) == 2
    assert len(openai_server.completion_requests) == 2
    # Both requests the provider received are in the integration's window.
    assert limits.usage_of([integration.pk])[integration.pk].sent_last_minute == 2


def test_without_redis_the_limits_are_said_to_be_unenforced_once(db, settings, openai_server, integrate, caplog):
    integrate(provider_document(openai_server.url, models=("free-model",)), name="free")
    settings.REDIS_URL = ""
    with caplog.at_level(logging.WARNING, logger="runners.limits"):
        assert limits.limits_unenforced_warning() == []
        assert not caplog.records  # nothing to say: no integration sets a limit
        integrate(provider_document(openai_server.url, models=("house-model",), max_concurrency=4), name="in-house")
        integrate(provider_document(openai_server.url, requests_per_minute=600), name="metered")
        assert limits.limits_unenforced_warning() == ["in-house", "metered"]
    (record,) = caplog.records
    assert "NOT enforced" in record.getMessage() and "in-house, metered" in record.getMessage()
    settings.REDIS_URL = "redis://127.0.0.1:6379/8"
    assert limits.limits_unenforced_warning() == []


@pytest.mark.slow
def test_a_worker_without_redis_warns_at_start_that_limits_are_not_enforced(
    transactional_db, openai_server, integrate, tmp_path
):
    integrate(provider_document(openai_server.url, requests_per_minute=60), name="metered")
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": "",  # the embedded quickstart: filesystem broker and file cache under INTEGRATIONS_VAR_DIR
        "INTEGRATIONS_VAR_DIR": str(tmp_path / "var"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONUNBUFFERED": "1",
        "RUNNERS_REAP_INTERVAL": "0",
    }
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "integrations_site", "worker", "--pool", "threads",
               "--concurrency", "2", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "--loglevel", "INFO"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        time.sleep(0.5)
        text = log_path.read_text(errors="replace")
    finally:
        process.terminate()
        process.wait(20)
    assert text.count("integration limits are NOT enforced") == 1, text
    assert "1 integration(s)" in text and "(metered)" in text
