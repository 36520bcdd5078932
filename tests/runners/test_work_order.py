"""Classes of work served in order (interactive, judges, batch) and batch runs shared between organisations, on real
Redis and real worker processes (runners.dispatch)."""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import ModelProperty
from runners.dispatch import runs_dispatch_batch
from runners.models import Job, Run, RunStatus, WorkClass
from runners.reaper import runs_republish_stale
from runners.services import RunSpec, job_create, run_enqueue, runs_enqueue_bulk
from tests.factories import make_integration
from tests.fixtures.worker import _celery_app, _purge, wait_for_run
from tests.runners.conftest import provider_document


def _model(organization, user, endpoint, model_name):
    integration = make_integration(
        organization=organization, user=user, name="slow", document=provider_document(endpoint, models=(model_name,))
    )
    return ModelProperty.objects.get(integration=integration)


def _bulk(model, user, organization, count, *, work_class=WorkClass.BATCH, label="b"):
    job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION)
    specs = [
        RunSpec(model=model, messages=[{"role": "user", "content": f"{label}{n}"}], parameters={}) for n in range(count)
    ]
    with transaction.atomic():
        return runs_enqueue_bulk(specs=specs, user=user, job=job, work_class=work_class)


def _wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _all_finished(runs, timeout=60):
    return [wait_for_run(run.pk, timeout=timeout) for run in runs]


def test_interactive_runs_then_judges_are_taken_before_a_queued_batch_by_two_workers(
    celery_worker_process, openai_server, org, admin_user
):
    workers = [celery_worker_process(concurrency=1) for _ in range(2)]
    model = _model(org, admin_user, openai_server.url, "slow-0.3")
    batch = _bulk(model, admin_user, org, 30)
    # Both workers warm (their first run pays for imports and connections) and busy.
    _wait_until(lambda: Run.objects.filter(pk__in=[run.pk for run in batch], status=RunStatus.SUCCEEDED).count() >= 4)

    job = job_create(organization=org, user=admin_user, kind=Job.Kind.EVALUATION)
    specs = [RunSpec(model=model, messages=[{"role": "user", "content": f"j{n}"}], parameters={}) for n in range(4)]
    with transaction.atomic():  # published together on commit: the judges' messages before the interactive one's
        judges = runs_enqueue_bulk(specs=specs, user=admin_user, job=job, work_class=WorkClass.JUDGE)
        interactive = run_enqueue(model=model, user=admin_user, messages=[{"role": "user", "content": "now"}])

    interactive = wait_for_run(interactive.pk, timeout=10)
    judges = _all_finished(judges)
    batch = _all_finished(batch)
    assert all(run.status == "succeeded" for run in [interactive, *judges, *batch]), [w.log()[-2000:] for w in workers]
    # One provider call (0.3 s) frees a slot: the interactive run waited for that, not for the 28 queued batch runs.
    assert (interactive.started_at - interactive.created_at).total_seconds() < 1.0
    # Published after the judges, taken before them (a slot freed while the commit published the judges may take
    # one of them first).
    assert interactive.started_at < sorted(run.started_at for run in judges)[1]
    # Once the first of them was taken, every judge was taken before the batch went on: at most one batch message,
    # already fetched by a worker when the judges were published, starts in between.
    first, last = min(run.started_at for run in [interactive, *judges]), max(run.started_at for run in judges)
    assert sum(1 for run in batch if first < run.started_at < last) <= 1
    assert sum(1 for run in batch if run.started_at > last) >= 16
    assert {run.work_class for run in batch} == {"batch"} and interactive.work_class == "interactive"


def test_one_organisations_large_batch_does_not_stall_anothers_small_one(
    celery_worker_process, openai_server, org, admin_user, other_org, other_admin, settings
):
    settings.RUNNERS_BATCH_WINDOW = 4
    celery_worker_process(concurrency=2, env={"RUNNERS_BATCH_WINDOW": "4"})
    big = _bulk(_model(org, admin_user, openai_server.url, "slow-0.1"), admin_user, org, 60, label="a")
    # Org A's window is published; the rest waits for its turn, never for a worker.
    assert Run.objects.filter(pk__in=[r.pk for r in big], published_at__isnull=False).count() == 4
    _wait_until(lambda: Run.objects.filter(pk__in=[r.pk for r in big], status=RunStatus.SUCCEEDED).count() >= 6)

    small = _bulk(_model(other_org, other_admin, openai_server.url, "slow-0.1"), other_admin, other_org, 6, label="o")
    small = _all_finished(small)
    last_small = max(run.finished_at for run in small)
    big_done_before = Run.objects.filter(pk__in=[r.pk for r in big], finished_at__lte=last_small).count()
    big = _all_finished(big)
    assert {run.status for run in [*small, *big]} == {"succeeded"}
    # Served side by side: organisation B's 6 runs took a fair share of the 2 slots (about as many of A's finished
    # meanwhile), not a place behind A's remaining ~50. The bound: the 6 done before, a fair share of 6, A's window
    # of 4 already in the broker ahead of B's, and the window's documented overshoot by the runs finishing at the
    # same moment (at most the worker's concurrency, 2).
    assert big_done_before <= 6 + 6 + 4 + 2, big_done_before
    assert max(run.finished_at for run in big) > last_small


def test_the_reaper_never_takes_a_batch_run_waiting_for_its_turn_for_a_lost_one(
    transactional_db, openai_server, org, admin_user, settings
):
    settings.RUNNERS_BATCH_WINDOW = 2
    runs = _bulk(_model(org, admin_user, openai_server.url, "echo-model"), admin_user, org, 5)
    _purge(_celery_app())  # no worker: the two published messages are gone, as if lost
    Run.objects.filter(pk__in=[run.pk for run in runs]).update(created_at=timezone.now() - timedelta(hours=1))
    Run.objects.filter(pk__in=[run.pk for run in runs], published_at__isnull=False).update(
        published_at=timezone.now() - timedelta(hours=1)
    )

    # The two published ones lost their messages and are published again; the three waiting are not lost.
    assert runs_republish_stale() == 2
    assert Run.objects.filter(pk__in=[run.pk for run in runs], republished_at__isnull=False).count() == 2
    # Their organisation's window is still full: nothing more is published until one finishes.
    assert runs_dispatch_batch() == 0
    assert Run.objects.filter(pk__in=[run.pk for run in runs], status="queued").count() == 5
    Run.objects.filter(pk__in=[run.pk for run in runs], published_at__isnull=False).update(status="succeeded")
    assert runs_dispatch_batch() == 2
    assert Run.objects.filter(pk__in=[run.pk for run in runs], published_at__isnull=True).count() == 1
    _purge(_celery_app())
