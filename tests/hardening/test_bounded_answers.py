"""A provider's answer is read up to RUNNERS_MAX_RESPONSE_BYTES, and list reads carry a preview (issue 14, item 2).

Before: the runner read any answer whole into the worker's memory (a member's integration pointing at an endpoint
that answers gigabytes could exhaust a worker every organisation shares), and `GET /api/v2/runs` carried every
run's whole output.
"""

import pytest

from runners.execution import run_execute
from runners.models import Run, RunStatus
from runners.selectors import OUTPUT_PREVIEW_LENGTH
from tests.api.conftest import client_for
from tests.fixtures.servers import EventStream, Reply
from tests.runners.conftest import provider_document

LIMIT = 64 * 1024

pytestmark = pytest.mark.django_db


@pytest.fixture
def execute(integrate, queued_run, settings):
    settings.RUNNERS_MAX_RESPONSE_BYTES = LIMIT
    settings.RUNNERS_MAX_RETRIES = 0

    def run(document: dict, **fields) -> Run:
        run = queued_run(integrate(document), **fields)
        run_execute(run_id=str(run.pk))
        return Run.objects.get(pk=run.pk)

    return run


def completion(content: str) -> dict:
    message = {"role": "assistant", "content": content}
    return {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": message}]}


def test_an_answer_just_under_the_limit_is_stored_whole(execute, openai_server):
    openai_server.enqueue(Reply(json=completion("a" * (LIMIT - 200))))

    run = execute(provider_document(openai_server.url))

    assert run.status == RunStatus.SUCCEEDED
    assert len(run.output) == LIMIT - 200


def test_an_answer_over_the_limit_fails_clearly(execute, openai_server):
    openai_server.enqueue(Reply(json=completion("a" * LIMIT)))

    run = execute(provider_document(openai_server.url))

    assert run.status == RunStatus.FAILED
    assert run.error_type == "response_too_large"
    assert f"larger than {LIMIT:,} bytes (RUNNERS_MAX_RESPONSE_BYTES)" in run.error_message
    assert run.output is None


def test_an_error_body_over_the_limit_fails_clearly(execute, openai_server):
    openai_server.enqueue(Reply(status=500, body="x" * (LIMIT + 1), content_type="text/plain"))

    run = execute(provider_document(openai_server.url))

    assert run.error_type == "response_too_large"


def test_an_event_stream_over_the_limit_fails_while_it_streams(execute, openai_server):
    chunk = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "b" * 1000}}]}
    # No Content-Length: the bound is counted as the stream arrives, not trusted from a header.
    openai_server.enqueue(EventStream(events=[chunk] * 100 + ["[DONE]"]))

    run = execute(provider_document(openai_server.url), stream=True)

    assert run.error_type == "response_too_large"
    assert "event stream is larger than" in run.error_message


def test_a_token_answer_over_the_limit_fails_clearly(execute, openai_server, oauth2_server):
    oauth2_server.enqueue(Reply(json={"access_token": "t" * LIMIT, "token_type": "Bearer"}))

    run = execute(oauth2_server.document(openai_server.url))

    assert run.error_type == "token_endpoint_error"
    assert "RUNNERS_MAX_RESPONSE_BYTES" in run.error_message


def test_the_run_list_carries_a_preview_and_the_run_read_the_whole_output(admin_user, integrate, queued_run):
    integration = integrate(provider_document("http://127.0.0.1:9/v1"))
    long_run = queued_run(integration, status=RunStatus.SUCCEEDED, output="é" * 5000)
    short_run = queued_run(integration, status=RunStatus.SUCCEEDED, output="short answer")
    client = client_for(admin_user)

    listed = {run["id"]: run for run in client.get("/api/v2/runs").json()["results"]}
    read = client.get(f"/api/v2/runs/{long_run.pk}").json()

    assert listed[str(long_run.pk)]["output"] == "é" * OUTPUT_PREVIEW_LENGTH
    assert listed[str(long_run.pk)]["output_truncated"] is True
    assert listed[str(short_run.pk)]["output"] == "short answer"
    assert listed[str(short_run.pk)]["output_truncated"] is False
    assert read["output"] == "é" * 5000
    assert read["output_truncated"] is False


def test_the_playground_history_carries_a_preview(admin_user, integrate, queued_run, client):
    from playground.selectors import playground_history
    from runners.models import Job
    from runners.presenters import run_representation
    from runners.services import job_create

    integration = integrate(provider_document("http://127.0.0.1:9/v1"))
    job = job_create(organization=integration.organization, user=admin_user, kind=Job.Kind.PLAYGROUND)
    queued_run(integration, status=RunStatus.SUCCEEDED, output="z" * 4000, job=job)

    [entry] = [
        run_representation(run, preview=True)
        for run in playground_history(organization=job.organization, user=admin_user)
    ]

    assert entry["output"] == "z" * OUTPUT_PREVIEW_LENGTH
    assert entry["output_truncated"] is True
