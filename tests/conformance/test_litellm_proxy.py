"""A real LiteLLM proxy (its PyPI package, started by tests/conformance/litellm_proxy.py) between the runner and
the fake provider answering as vLLM: run plain, streamed and with a tool call, and a refused parameter negotiated
through the proxy's error form (issue 13, items 2, 4, 5, 6)."""

import pytest

from tests.conformance.profiles import (
    ANSWER,
    KINDS,
    MESSAGES,
    REASONING,
    USAGE,
    VLLM,
    WEATHER_TOOL,
    OpenAIReasoning,
)
from tests.runners.conftest import sent_headers

UPSTREAM_HEADERS = ("authorization", "content-type", "accept")


def proxy_document(proxy, model: str, supported=("max_tokens", "temperature", "tools", "tool_choice")) -> dict:
    return {
        "authentication_type": "api_key",
        "api_key_header": "Authorization",
        "api_key_value": f"Bearer {proxy.master_key}",
        "endpoint": proxy.url,
        "model_properties": [{"name": model, "supported_parameters": list(supported)}],
    }


def parameters_for(kind: str) -> dict:
    parameters = {"max_tokens": 64, "temperature": 0.2}
    if kind == "tool_call":
        parameters.update(tools=[WEATHER_TOOL], tool_choice="auto")
    return parameters


@pytest.fixture
def through_proxy(litellm_proxy, serve, integrate, enqueue, execute):
    """through_proxy(kind) -> the finished run of r1-distill through the proxy, vLLM answering behind it."""
    serve(VLLM)
    integration = integrate(proxy_document(litellm_proxy, "r1-distill"), name="via-litellm")

    def run(kind: str):
        return execute(
            enqueue(integration, messages=MESSAGES, parameters=parameters_for(kind), stream=kind == "streamed")
        )

    return run


@pytest.mark.parametrize("kind", KINDS)
def test_the_proxy_forwards_what_the_runner_sent(kind, through_proxy, litellm_proxy, openai_server):
    run = through_proxy(kind)

    expected_body = {"model": "r1-distill", "messages": MESSAGES, **parameters_for(kind)}
    if kind == "streamed":
        expected_body.update(stream=True, stream_options={"include_usage": True})
    assert run.request["body"] == expected_body
    assert run.request["url"] == f"{litellm_proxy.url}/chat/completions"
    (upstream,) = openai_server.completion_requests
    assert upstream.path == "/v1/chat/completions"
    assert {name: sent_headers(upstream)[name] for name in UPSTREAM_HEADERS} == {
        "authorization": f"Bearer {litellm_proxy.upstream_key}",
        "content-type": "application/json",
        "accept": "application/json",
    }
    forwarded = {**expected_body, "model": litellm_proxy.models["r1-distill"]}
    if kind == "streamed":
        forwarded["stream_options"] = {"include_usage": True}  # LiteLLM asks for usage upstream in any case
    assert upstream.json == forwarded


@pytest.mark.parametrize("kind", ["plain", "streamed"])
def test_an_answer_through_the_proxy_is_stored_with_its_usage(kind, through_proxy):
    run = through_proxy(kind)

    assert (run.status, run.output, run.finish_reason, run.error_type) == ("succeeded", ANSWER, "stop", None)
    # LiteLLM returns usage on a stream only to a client that asked for it (stream_options.include_usage).
    assert run.usage == USAGE


@pytest.mark.parametrize("kind", ["plain", "streamed"])
def test_reasoning_through_the_proxy_is_stored(kind, through_proxy, api_read):
    run = through_proxy(kind)

    assert run.reasoning == REASONING
    assert api_read(run)["reasoning"] == REASONING


def test_a_tool_call_through_the_proxy_is_stored_and_read_back(through_proxy, api_read):
    run = through_proxy("tool_call")

    expected = VLLM().expected_tool_calls()
    assert (run.status, run.finish_reason, run.output or "") == ("succeeded", "tool_calls", "")
    assert run.tool_calls == expected
    assert api_read(run)["tool_calls"] == expected


def test_a_parameter_refused_behind_the_proxy_is_renamed_once_and_learned(
    litellm_proxy, serve, integrate, enqueue, execute, openai_server
):
    # LiteLLM keeps the upstream's `param` but replaces its `code` with "400" and prefixes the message:
    # {"error": {"message": "litellm.BadRequestError: OpenAIException - Unsupported parameter: 'max_tokens' ...",
    #            "type": "invalid_request_error", "param": "max_tokens", "code": "400"}}
    serve(OpenAIReasoning)
    integration = integrate(proxy_document(litellm_proxy, "reasoner-x"), name="via-litellm")
    run = execute(enqueue(integration, messages=MESSAGES, parameters={"max_tokens": 64}))

    assert run.status == "succeeded", run.error_message
    first, second = openai_server.completion_requests
    assert first.json["max_tokens"] == 64 and "max_completion_tokens" not in first.json
    assert second.json["max_completion_tokens"] == 64 and "max_tokens" not in second.json
    assert [attempt["status_code"] for attempt in run.attempt_log] == [400, 200]
    assert run.request["body"]["max_completion_tokens"] == 64
    from integrations.models import ParameterRule  # issue 13 item 2 adds it

    rule = ParameterRule.objects.get(integration=integration, model_name="reasoner-x", parameter="max_tokens")
    assert (rule.action, rule.to, str(rule.learned_from_run)) == ("rename", "max_completion_tokens", str(run.pk))
