"""End to end: an integration and a run created through the API, executed (by a real worker on Redis, or by the
runner called as the worker's task calls it) against a real OpenAI-compatible server, read back through the API."""

import re

import pytest

from runners.execution import run_execute
from tests.fixtures.worker import wait_for_run

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(autouse=True)
def _quick_failures(settings):
    settings.RUNNERS_REQUEST_TIMEOUT = 10
    settings.RUNNERS_MAX_RETRIES = 0


def _integrate(client, endpoint):
    document = {
        "authentication_type": "api_key",
        "api_key_header": "x-portkey-api-key",
        "api_key_value": "sk-live-SECRET-1",
        "model_properties": [
            {"name": "echo-model", "alias": "Echo", "supported_parameters": ["max_tokens", "temperature"]}
        ],
        "endpoint": endpoint,
    }
    response = client.put("/api/v2/integrations/custom/provider", document, format="json")
    assert response.status_code == 200, response.json()


@pytest.mark.worker
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_run_created_through_the_api_completes_on_a_real_worker(celery_worker, openai_server, admin_client, stream):
    _integrate(admin_client, openai_server.url)
    response = admin_client.post(
        "/api/v2/runs",
        {
            "integration": "provider",
            "model": "Echo",
            "messages": [{"role": "user", "content": "Hello there"}],
            "parameters": {"temperature": 0.1, "max_tokens": 50, "top_p": 0.9},
            "stream": stream,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert response.json()["dropped_parameters"] == ["top_p"]
    run_id = response.json()["id"]

    wait_for_run(run_id, timeout=30)
    body = admin_client.get(f"/api/v2/runs/{run_id}").json()
    assert body["status"] == "succeeded", body["error"]
    assert body["output"] == "echo: Hello there"
    assert body["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] > 0  # streamed too: the request asks for it (stream_options)
    assert body["latency_ms"] > 0
    assert body["error"] is None
    for field in ("created_at", "started_at", "finished_at"):
        assert MICROSECONDS.match(body[field]), body[field]
    assert body["created_at"] <= body["started_at"] <= body["finished_at"]

    # The provider got the real key and only the supported parameters; the API shows neither the key ...
    (sent,) = openai_server.completion_requests
    assert sent.headers["x-portkey-api-key"] == "sk-live-SECRET-1"
    assert sent.json["model"] == "echo-model"
    assert "top_p" not in sent.json
    assert sent.json["temperature"] == 0.1
    assert "sk-live-SECRET-1" not in str(body)
    # ... and lists the run under its filters.
    listed = admin_client.get("/api/v2/runs", {"status": "succeeded", "integration": "provider", "model": "Echo"})
    assert [run["id"] for run in listed.json()["results"]] == [run_id]


def test_a_failing_provider_gives_a_failed_run_with_a_secret_free_error(openai_server, admin_client):
    _integrate(admin_client, openai_server.url)
    document = admin_client.get("/api/v2/integrations/custom/provider").json()["document"]
    document["model_properties"].append({"name": "status-400", "alias": "Broken"})
    assert admin_client.put("/api/v2/integrations/custom/provider", document, format="json").status_code == 200

    response = admin_client.post(
        "/api/v2/runs",
        {"integration": "provider", "model": "Broken", "messages": [{"role": "user", "content": "hi"}]},
        format="json",
    )
    run_id = response.json()["id"]
    run_execute(run_id=run_id)
    body = admin_client.get(f"/api/v2/runs/{run_id}").json()
    assert body["status"] == "failed"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["message"]
    assert "sk-live-SECRET-1" not in str(body)
    # The placeholder PUT above kept the secret the runner used.
    assert openai_server.completion_requests[0].headers["x-portkey-api-key"] == "sk-live-SECRET-1"
