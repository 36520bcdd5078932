"""A running evaluation's results summary is computed off the request path: a read answers the summary in the cache
and, once it is older than EVALUATIONS_SUMMARY_MAX_AGE, a real worker computes the next one (real Redis)."""

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations.results import evaluation_results
from evaluations.services import lifecycle
from evaluations.services.lifecycle import evaluation_advance, evaluation_create
from runners.models import Run
from tests.evaluations.conftest import finish

PROMPT = [{"role": "user", "content": "Answer briefly: {{question}}"}]


def succeeded(evaluation) -> list[int]:
    return [summary.succeeded for summary in evaluation_results(evaluation=evaluation).summaries]


def read_queries(evaluation) -> int:
    with CaptureQueriesContext(connection) as queries:
        evaluation_results(evaluation=evaluation)
    return len(queries)


def test_a_running_evaluations_summary_is_refreshed_by_a_worker_and_a_finished_ones_at_once(
    monkeypatch, settings, celery_worker, org, admin_user, provider, make_dataset
):
    settings.EVALUATIONS_SUMMARY_MAX_AGE = 1
    # The runs are not handed to the worker: this test finishes them itself, as workers would.
    monkeypatch.setattr(lifecycle, "_schedule_dispatch", lambda evaluation_id: None)
    evaluation = evaluation_create(
        organization=org,
        user=admin_user,
        name="Summary",
        dataset=make_dataset(3).uuid,
        messages=PROMPT,
        models=[{"model": "model-a"}, {"model": "model-b"}],
    )
    runs = list(Run.objects.filter(job=evaluation.job).order_by("created_at"))
    finish(runs[:2])
    first = read_queries(evaluation)  # nothing in the cache: computed by this read
    counted = sum(succeeded(evaluation))
    finish(runs[2:4])
    assert sum(succeeded(evaluation)) == counted  # younger than the maximum age: the cached one
    time.sleep(1.1)
    stale = read_queries(evaluation)  # older: answered from the cache, a worker asked for the next
    assert stale < first, (stale, first)
    deadline = time.monotonic() + 20
    while sum(succeeded(evaluation)) < counted + 2:
        assert time.monotonic() < deadline, "the worker did not refresh the summary"
        time.sleep(0.1)

    finish(runs[4:])
    evaluation_advance(evaluation=evaluation)
    evaluation.refresh_from_db()
    assert evaluation.finished_at is not None
    assert sum(succeeded(evaluation)) == 6  # finished since: its final summary, computed by the read at once
