"""The product page's first example (gpt-5.2 with max_tokens) through the API and a real worker, against a provider
that refuses max_tokens as OpenAI's reasoning models do: the runs succeed, and runs negotiating at the same time
make one rule."""

import copy

import pytest

from integrations.models import ParameterRule
from tests.factories import SEED_GPT_52
from tests.fixtures.worker import wait_for_run

pytestmark = pytest.mark.worker

SEED_DOCUMENT = {
    "authentication_type": "api_key",
    "api_key_header": "Authorization",
    "api_key_value": "Bearer sk-live-SECRET-2",
    "model_properties": [copy.deepcopy(SEED_GPT_52)],
}


def _start(client, *, stream: bool) -> str:
    response = client.post(
        "/api/v2/runs",
        {
            "integration": "openai",
            "model": "GPT 5.2",
            "messages": [{"role": "user", "content": "Hello there"}],
            "parameters": {"max_tokens": 50},
            "stream": stream,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def test_runs_negotiating_at_once_succeed_and_make_one_rule(celery_worker, openai_server, admin_client):
    openai_server.refuse_parameters("max_tokens")
    document = {**SEED_DOCUMENT, "endpoint": openai_server.url}
    assert admin_client.put("/api/v2/integrations/custom/openai", document, format="json").status_code == 200

    run_ids = [_start(admin_client, stream=index % 2 == 1) for index in range(6)]

    for run_id in run_ids:
        wait_for_run(run_id, timeout=30)
        body = admin_client.get(f"/api/v2/runs/{run_id}").json()
        assert body["status"] == "succeeded", body["error"]
        assert body["output"] == "echo: Hello there"
        assert body["request"]["body"]["max_completion_tokens"] == 50
        assert "max_tokens" not in body["request"]["body"]
        assert body["usage"]["total_tokens"] > 0
    (rule,) = ParameterRule.objects.all()
    assert (rule.parameter, rule.action, rule.to) == ("max_tokens", "rename", "max_completion_tokens")
    integration_id = admin_client.get("/api/v2/integrations/custom/openai").json()["id"]
    (listed,) = admin_client.get(f"/api/v2/integrations/{integration_id}/parameter-rules").json()
    assert listed["id"] == str(rule.uuid)
    assert "sk-live-SECRET-2" not in listed["reason"]

    # A run started now applies the rule before sending: one request, and says so.
    openai_server.requests.clear()
    later = _start(admin_client, stream=False)
    wait_for_run(later, timeout=30)
    body = admin_client.get(f"/api/v2/runs/{later}").json()
    assert len(openai_server.completion_requests) == 1
    assert body["applied_rules"] == [
        {"parameter": "max_tokens", "action": "rename", "to": "max_completion_tokens", "rule": str(rule.uuid)}
    ]
