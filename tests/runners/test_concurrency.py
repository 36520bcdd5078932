"""Hundreds of runs in flight in one worker process, without one database connection each."""

import threading
import time

import pytest
from django.db import connection, transaction

from integrations.models import ModelProperty
from runners.services import run_enqueue
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document

RUNS = 150
LATENCY = 1.5
POOL_SIZE = 10
WORKER_APPLICATION_NAME = "concurrency-test-worker"  # libpq's PGAPPNAME: tells the worker's connections apart


def _server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [connection.settings_dict["NAME"], WORKER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


@pytest.mark.slow
def test_one_worker_process_keeps_150_slow_runs_in_flight(celery_worker_process, openai_server, integrate, admin_user):
    openai_server.latency = LATENCY
    worker = celery_worker_process(
        concurrency=RUNS, env={"DATABASE_POOL_SIZE": str(POOL_SIZE), "PGAPPNAME": WORKER_APPLICATION_NAME}
    )
    model = ModelProperty.objects.get(integration=integrate(provider_document(openai_server.url)))
    peak_connections = [0]
    sampling = threading.Event()

    def sample() -> None:
        try:
            while not sampling.is_set():
                peak_connections[0] = max(peak_connections[0], _server_connections())
                time.sleep(0.05)
        finally:
            connection.close()

    sampler = threading.Thread(target=sample)
    if connection.vendor == "postgresql":
        sampler.start()
    with transaction.atomic():  # published together when the transaction commits
        runs = [
            run_enqueue(model=model, user=admin_user, messages=[{"role": "user", "content": f"run {i}"}])
            for i in range(RUNS)
        ]
    finished = [wait_for_run(run.pk, timeout=90) for run in runs]
    sampling.set()

    assert {run.status for run in finished} == {"succeeded"}, worker.log()[-2000:]
    # Holding a pooled connection while waiting on the provider would allow at most POOL_SIZE calls at once.
    assert openai_server.peak_in_flight >= 50, f"at most {openai_server.peak_in_flight} calls at once"
    if connection.vendor == "postgresql":
        sampler.join()
        assert 0 < peak_connections[0] <= POOL_SIZE + 1  # the worker's pool, plus its reaper's connection
