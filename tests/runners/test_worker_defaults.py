"""`celery -A integrations_site worker` with no flags is the tuned worker: the pool and concurrency come from settings.

Measured before this was set in settings: the plain command started Celery's prefork pool with one process per core,
about twenty times slower on the product's batches than the Procfile's threads worker (issue 15).
"""

import pytest

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_started_without_flags_uses_the_threads_pool_and_200_slots(celery_worker_process):
    worker = celery_worker_process(concurrency=None, env={"WORKER_CONCURRENCY": ""})

    pool = worker.stats()["pool"]

    assert pool["implementation"] == "celery.concurrency.thread:TaskPool"
    assert pool["max-concurrency"] == 200


def test_worker_concurrency_sets_the_slots_of_a_worker_started_without_flags(celery_worker_process):
    worker = celery_worker_process(concurrency=None, env={"WORKER_CONCURRENCY": "37"})

    pool = worker.stats()["pool"]

    assert pool["implementation"] == "celery.concurrency.thread:TaskPool"
    assert pool["max-concurrency"] == 37
