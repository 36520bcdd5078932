"""A queued run whose broker message was lost is published again, once per period, and executed once."""

from datetime import timedelta

from django.utils import timezone

from runners.models import Run
from runners.reaper import runs_republish_stale
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document


def _age(run, seconds):
    Run.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_a_queued_run_whose_message_was_lost_is_published_again_and_runs_once(
    celery_worker, openai_server, integrate, queued_run
):
    run = queued_run(integrate(provider_document(openai_server.url)))  # its message was never published
    _age(run, 3600)

    assert runs_republish_stale() == 1
    finished = wait_for_run(run.pk)

    assert finished.status == "succeeded"
    assert len(openai_server.completion_requests) == 1
    # Already republished within the period: not again.
    assert runs_republish_stale() == 0


def test_recent_queued_runs_are_left_alone(transactional_db, openai_server, integrate, queued_run):
    run = queued_run(integrate(provider_document(openai_server.url)))
    _age(run, 1)
    assert runs_republish_stale() == 0
    assert Run.objects.get(pk=run.pk).republished_at is None


def test_nothing_is_published_again_while_the_queue_has_a_backlog(
    transactional_db, openai_server, integrate, queued_run
):
    from tests.fixtures.worker import TEST_QUEUE, _celery_app

    run = queued_run(integrate(provider_document(openai_server.url)))
    _age(run, 3600)
    app = _celery_app()
    app.conf.task_default_queue = backlog = f"{TEST_QUEUE}-backlog"  # a queue no worker consumes
    try:
        app.send_task("runners.execute_run", args=["00000000-0000-0000-0000-000000000000"], queue=backlog)
        assert runs_republish_stale() == 0
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(backlog)
        app.conf.task_default_queue = TEST_QUEUE
