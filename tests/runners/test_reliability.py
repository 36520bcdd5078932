"""No run lost, none executed into two results: claims, redelivery, the reaper and a worker killed mid-run."""

import json
import time
from datetime import timedelta

from celery.signals import before_task_publish
from django.core.management import call_command
from django.utils import timezone

from runners.claiming import run_claim
from runners.models import Run
from runners.outcome import Outcome
from runners.reaper import runs_reap_lost
from runners.storing import run_store_outcome
from runners.tasks import execute_run
from tests.fixtures.servers import Echo
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document


def test_the_task_message_carries_the_run_id_only(celery_worker, openai_server, integrate, enqueue):
    published = []

    def capture(sender=None, body=None, headers=None, **kwargs):
        published.append((sender, body, headers))

    before_task_publish.connect(capture)
    try:
        document = provider_document(openai_server.url, headers={"X-Static": "static-header-secret"})
        run = enqueue(integrate(document))
    finally:
        before_task_publish.disconnect(capture)
    wait_for_run(run.pk)

    ((sender, body, headers),) = published
    assert sender == "runners.execute_run"
    args, kwargs, _ = body
    assert list(args) == [str(run.pk)] and kwargs == {}
    message = json.dumps([body, headers], default=str)
    for secret in ("sk-test-ABC123xyz", "static-header-secret", "x-portkey-api-key", openai_server.url):
        assert secret not in message


def test_a_run_delivered_twice_at_once_is_executed_once(celery_worker, openai_server, integrate, enqueue):
    openai_server.latency = 0.3
    run = enqueue(integrate(provider_document(openai_server.url)))
    execute_run.delay(str(run.pk))
    execute_run.delay(str(run.pk))
    first = wait_for_run(run.pk)
    time.sleep(0.5)

    assert len(openai_server.completion_requests) == 1
    assert Run.objects.get(pk=run.pk).finished_at == first.finished_at
    assert first.attempts == 1


def test_a_finished_run_delivered_again_is_left_alone(celery_worker, openai_server, integrate, enqueue):
    run = wait_for_run(enqueue(integrate(provider_document(openai_server.url))).pk)
    execute_run.delay(str(run.pk))
    time.sleep(0.5)

    again = Run.objects.get(pk=run.pk)
    assert (again.status, again.finished_at, again.output) == (run.status, run.finished_at, run.output)
    assert len(openai_server.completion_requests) == 1


def test_only_the_current_claim_holder_stores_a_result(transactional_db, openai_server, integrate, queued_run):
    run = queued_run(integrate(provider_document(openai_server.url)))
    first_claim = run_claim(run_id=str(run.pk)).claim_token
    assert run_claim(run_id=str(run.pk)) is None  # running, recently started: someone has it

    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(seconds=31))
    taken_over = run_claim(run_id=str(run.pk))  # its worker is presumed lost: taken over
    second_claim = taken_over.claim_token
    assert second_claim not in (None, first_claim)
    assert (taken_over.status, taken_over.messages) == ("running", run.messages)

    from runners.completion import Reply

    reply = Reply(output="late", finish_reason="stop", usage=None, response={})
    assert run_store_outcome(run_id=str(run.pk), claim=first_claim, outcome=Outcome(request=None, reply=reply)) is False
    reply.output = "current"
    assert run_store_outcome(run_id=str(run.pk), claim=second_claim, outcome=Outcome(request=None, reply=reply))
    assert (
        run_store_outcome(run_id=str(run.pk), claim=second_claim, outcome=Outcome(request=None, reply=reply)) is False
    )
    assert Run.objects.get(pk=run.pk).output == "current"


def test_the_reaper_fails_runs_whose_worker_was_lost(transactional_db, openai_server, integrate, queued_run):
    integration = integrate(provider_document(openai_server.url))
    lost, alive = queued_run(integration), queued_run(integration)
    now = timezone.now()
    Run.objects.filter(pk=lost.pk).update(status="running", started_at=now - timedelta(seconds=61))
    Run.objects.filter(pk=alive.pk).update(status="running", started_at=now - timedelta(seconds=59))

    assert runs_reap_lost() == 1  # twice RUNNERS_LOST_AFTER_SECONDS (30 s here)

    lost.refresh_from_db()
    assert lost.status == "failed"
    assert lost.error_type == "worker_lost"
    assert lost.error_message.startswith("The worker running this run stopped (it was killed or crashed)")
    assert lost.finished_at is not None
    assert Run.objects.get(pk=alive.pk).status == "running"


def test_reap_runs_command(transactional_db, openai_server, integrate, queued_run, capsys):
    run = queued_run(integrate(provider_document(openai_server.url)))
    Run.objects.filter(pk=run.pk).update(status="running", started_at=timezone.now() - timedelta(seconds=5))

    call_command("reap_runs", "--lost-after", "1")

    assert capsys.readouterr().out == "1 run(s) marked failed (worker lost)\n0 queued run(s) published again\n"
    assert Run.objects.get(pk=run.pk).status == "failed"


def test_a_run_survives_its_worker_being_killed(celery_worker_process, openai_server, integrate, enqueue):
    lost_after = 3
    env = {"RUNNERS_LOST_AFTER_SECONDS": str(lost_after), "RUNNERS_REAP_INTERVAL": "0"}
    first_worker = celery_worker_process(env=env)
    openai_server.enqueue(Echo(delay=20))  # the first worker's request hangs
    run = enqueue(integrate(provider_document(openai_server.url)))
    openai_server.wait_for_requests(1, timeout=20)
    assert Run.objects.get(pk=run.pk).status == "running"

    first_worker.kill()
    time.sleep(lost_after + 0.5)  # the unacknowledged message becomes visible again
    assert Run.objects.get(pk=run.pk).status == "running"
    celery_worker_process(env=env)
    run = wait_for_run(run.pk, timeout=30)

    assert run.status == "succeeded", run.error_message
    assert run.output == "echo: Hello there"
    assert len(openai_server.completion_requests) == 2
    assert run.attempts == 1  # the result of the one execution that finished
    assert runs_reap_lost(lost_after=0) == 0
