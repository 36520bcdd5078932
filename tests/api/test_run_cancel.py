"""POST /api/v2/runs/{id}/cancel: who may stop a run, a queued run never reaching the provider, a running one
abandoned by a real worker with its partial output kept and the provider's connection closed."""

import time

import pytest

from runners.cancellation import cancel_key, cancel_requested
from runners.execution import run_execute
from runners.models import Run, RunStatus
from runners.services import job_create, run_enqueue
from tests.fixtures.servers import EventStream
from tests.fixtures.worker import wait_for_run

HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def queued_run(org, member_user, integration, monkeypatch):
    from runners import tasks

    monkeypatch.setattr(tasks.execute_run, "delay", lambda run_id: None)  # nobody executes it
    job = job_create(organization=org, user=member_user, kind="api")
    model = integration.models.get(alias="GPT 5.2")
    return run_enqueue(user=member_user, job=job, model=model, messages=HELLO)


def test_a_queued_run_stopped_fails_as_cancelled_and_never_reaches_the_provider(
    member_client, queued_run, openai_server
):
    response = member_client.post(f"/api/v2/runs/{queued_run.pk}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"] == {"type": "cancelled", "message": "Stopped before it started."}
    # The worker's claim (from queued) finds nothing to take: no request is ever sent.
    run_execute(run_id=str(queued_run.pk))
    assert openai_server.requests == []
    assert Run.objects.get(pk=queued_run.pk).error_type == "cancelled"
    # Again: nothing left to stop, the same answer.
    again = member_client.post(f"/api/v2/runs/{queued_run.pk}/cancel")
    assert again.status_code == 200
    assert again.json()["error"]["type"] == "cancelled"


def test_a_running_run_is_signalled_and_a_finished_one_left_as_it_is(admin_client, queued_run):
    Run.objects.filter(pk=queued_run.pk).update(status=RunStatus.RUNNING)
    response = admin_client.post(f"/api/v2/runs/{queued_run.pk}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert cancel_requested(run_id=queued_run.pk)

    Run.objects.filter(pk=queued_run.pk).update(status=RunStatus.SUCCEEDED, output="done")
    finished = admin_client.post(f"/api/v2/runs/{queued_run.pk}/cancel")
    assert finished.status_code == 200
    assert finished.json()["status"] == "succeeded"
    assert finished.json()["output"] == "done"


def test_only_the_member_who_started_it_and_admins_may_stop_a_run(creator_client, queued_run):
    response = creator_client.post(f"/api/v2/runs/{queued_run.pk}/cancel")

    assert response.status_code == 403
    assert "admins and the member who started the run" in str(response.json()["detail"])
    assert Run.objects.get(pk=queued_run.pk).status == RunStatus.QUEUED


def test_another_organisations_run_is_a_404_and_nothing_changes(other_client, queued_run):
    response = other_client.post(f"/api/v2/runs/{queued_run.pk}/cancel")

    assert response.status_code == 404
    assert Run.objects.get(pk=queued_run.pk).status == RunStatus.QUEUED
    assert not cancel_requested(run_id=queued_run.pk)


def test_an_unknown_run_is_a_404_and_reading_needs_a_key(member_client, db):
    from rest_framework.test import APIClient

    assert member_client.post("/api/v2/runs/00000000-0000-0000-0000-000000000000/cancel").status_code == 404
    assert APIClient().post("/api/v2/runs/00000000-0000-0000-0000-000000000000/cancel").status_code == 401


def _integrate(client, endpoint):
    document = {
        "authentication_type": "api_key",
        "api_key_header": "Authorization",
        "api_key_value": "Bearer sk-live-SECRET-9",
        "model_properties": [{"name": "slow-stream", "alias": "Slow"}, {"name": "slow-20", "alias": "Plain"}],
        "endpoint": endpoint,
    }
    response = client.put("/api/v2/integrations/custom/slow", document, format="json")
    assert response.status_code == 200, response.json()


def _chunk(text):
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}


@pytest.mark.worker
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "plain"])
def test_a_real_worker_abandons_a_stopped_run_closing_the_providers_connection(
    celery_worker, openai_server, admin_client, settings, stream
):
    settings.RUNNERS_MAX_RETRIES = 0
    _integrate(admin_client, openai_server.url)
    # A provider that writes a word every 0.2 s for 20 s (plain: the model slow-20 answers after 20 s).
    words = [_chunk("Once" if i == 0 else f" w{i}") for i in range(100)]
    if stream:
        openai_server.enqueue(EventStream(events=[*words, "[DONE]"], delay=0.2))
    body = {"integration": "slow", "model": "Slow" if stream else "Plain", "messages": HELLO, "stream": stream}
    run_id = admin_client.post("/api/v2/runs", body, format="json").json()["id"]

    deadline = time.monotonic() + 10
    while True:  # wait until the provider has written a few words (and the page could show them)
        read = admin_client.get(f"/api/v2/runs/{run_id}").json()
        if (read["output"] or "").count(" ") >= 2 or (not stream and openai_server.in_flight):
            break
        assert time.monotonic() < deadline, read
        time.sleep(0.05)
    asked = time.monotonic()
    response = admin_client.post(f"/api/v2/runs/{run_id}/cancel")
    assert response.status_code == 202

    run = wait_for_run(run_id, timeout=5)
    stopped_after = time.monotonic() - asked
    assert stopped_after < 1.5
    assert run.status == RunStatus.FAILED
    assert run.error_type == "cancelled"
    assert run.error_message.startswith("Stopped while the provider was answering.")
    if stream:
        assert run.output.startswith("Once w1 w2")
        assert len(run.output.split(" ")) < 100
    else:
        assert run.output is None
    if stream:
        # The provider saw its client go: the connection was closed mid-answer, not read to the end.
        (answer,) = openai_server.wait_for_closed_answers(1, timeout=3)
        assert answer.state == "disconnected"
        assert len(answer.chunk_times) < 50
    assert "sk-live-SECRET-9" not in str(admin_client.get(f"/api/v2/runs/{run_id}").json())
    assert cancel_key(run_id) == f"runners:cancel:{run_id}"
