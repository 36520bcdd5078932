"""Each profile's documented quirks and error forms, through the real runner (issue 13).

The item of the issue each test proves is named in its docstring.
"""

import pytest
from starlette.responses import JSONResponse

from core.problems import Invalid
from tests.conformance.profiles import (
    ANSWER_PIECES,
    MESSAGES,
    STREAMED_TOOL_CALL_PROFILES,
    TGI,
    TOOL_ARGUMENTS,
    VLLM,
    WEATHER_TOOL,
    AzureOpenAI,
    Groq,
    Ollama,
    OpenAIReasoning,
    OpenRouter,
    event_stream,
)


def parameter_rule_model():
    from integrations.models import ParameterRule  # issue 13 item 2 adds it

    return ParameterRule


@pytest.fixture
def openai_run(serve, integrate, enqueue, execute, openai_server):
    """openai_run(parameters, **model_extras) -> (integration, run) of gpt-5.2 on the OpenAI reasoning profile."""
    serve(OpenAIReasoning)

    def run(parameters, *, stream=False, integration=None, **model_extras):
        if integration is None:
            document = OpenAIReasoning().document(openai_server.base_url)
            document["model_properties"][0].update(model_extras)
            integration = integrate(document, name="openai")
        return integration, execute(enqueue(integration, messages=MESSAGES, parameters=parameters, stream=stream))

    return run


# -- OpenAI reasoning models ---------------------------------------------------------------------------------------
def test_openai_refusing_max_tokens_is_answered_by_one_retry_with_max_completion_tokens(openai_run, openai_server):
    """Item 2: OpenAI's `unsupported_parameter` for `max_tokens` (the product page's first example)."""
    integration, run = openai_run({"max_tokens": 64})

    assert run.status == "succeeded", run.error_message
    first, second = openai_server.completion_requests
    assert first.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_tokens": 64}
    assert second.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_completion_tokens": 64}
    assert [attempt["status_code"] for attempt in run.attempt_log] == [400, 200]
    assert run.request["body"] == second.json
    assert run.dropped_parameters == []
    rule = parameter_rule_model().objects.get(integration=integration, model_name="gpt-5.2", parameter="max_tokens")
    assert (rule.action, rule.to, str(rule.learned_from_run)) == ("rename", "max_completion_tokens", str(run.pk))
    assert "Use 'max_completion_tokens' instead" in rule.reason


def test_openai_a_learned_rule_is_applied_at_once_and_recorded_on_the_run(openai_run, openai_server, api_read):
    """Item 2: later runs apply the rule without a refused attempt, and say so in `applied_rules`."""
    integration, _ = openai_run({"max_tokens": 64})
    openai_server.requests.clear()
    _, run = openai_run({"max_tokens": 32}, integration=integration)

    (received,) = openai_server.completion_requests
    assert received.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_completion_tokens": 32}
    rule = parameter_rule_model().objects.get(integration=integration, parameter="max_tokens")
    applied = [{"parameter": "max_tokens", "action": "rename", "to": "max_completion_tokens", "rule": str(rule.uuid)}]
    assert run.applied_rules == applied
    assert api_read(run)["applied_rules"] == applied


def test_openai_refusing_a_temperature_value_drops_it_once(openai_run, openai_server):
    """Item 2: OpenAI's `unsupported_value` for `temperature` (reasoning models take only the default, 1)."""
    integration, run = openai_run({"temperature": 0.2, "reasoning_effort": "low"})

    assert run.status == "succeeded", run.error_message
    first, second = openai_server.completion_requests
    assert first.json["temperature"] == 0.2
    assert second.json == {"model": "gpt-5.2", "messages": MESSAGES, "reasoning_effort": "low"}
    assert run.dropped_parameters == ["temperature"]
    rule = parameter_rule_model().objects.get(integration=integration, parameter="temperature")
    assert (rule.action, rule.to) == ("drop", None)


def test_openai_parameter_names_in_the_document_send_max_completion_tokens_at_once(openai_run, openai_server):
    """Item 1: the per-model `parameter_names` extension key."""
    _, run = openai_run({"max_tokens": 64}, parameter_names={"max_tokens": "max_completion_tokens"})

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.completion_requests
    assert received.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_completion_tokens": 64}


@pytest.mark.parametrize("profile_class", STREAMED_TOOL_CALL_PROFILES, ids=lambda profile: profile.name)
def test_a_streamed_tool_call_is_merged_into_one_whole_call(
    profile_class, serve, integrate, enqueue, execute, openai_server, api_read
):
    """Item 5: OpenAI and vLLM stream a tool call as an id-and-name fragment then argument pieces, all `index` 0;
    Ollama and Groq send it whole in one delta. Either way one call in OpenAI's shape, and a success."""
    profile = serve(profile_class)
    integration = integrate(profile.document(openai_server.base_url))
    run = execute(enqueue(integration, **{**profile.run_kwargs("tool_call"), "stream": True}))

    expected = profile.expected_tool_calls()
    assert expected[0]["function"]["arguments"] == TOOL_ARGUMENTS
    assert (run.status, run.finish_reason) == ("succeeded", "tool_calls"), run.error_message
    assert run.tool_calls == expected
    assert api_read(run)["tool_calls"] == expected


# -- Azure OpenAI ------------------------------------------------------------------------------------------------
class AzureContentFilter(AzureOpenAI):
    def completion(self, body, *, tool):
        raise AssertionError("answered by refusal")

    def refusal(self, recorded, body):
        return super().refusal(recorded, body) or JSONResponse(
            {
                "error": {
                    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                    "management policy. Please modify your prompt and retry.",
                    "type": None,
                    "param": "prompt",
                    "code": "content_filter",
                    "status": 400,
                    "innererror": {
                        "code": "ResponsibleAIPolicyViolation",
                        "content_filter_result": {
                            "hate": {"filtered": False, "severity": "safe"},
                            "violence": {"filtered": True, "severity": "medium"},
                        },
                    },
                }
            },
            status_code=400,
        )


def test_azure_a_prompt_refused_by_the_content_filter_fails_once_with_azures_words(
    serve, integrate, enqueue, execute, openai_server
):
    """Items 2 and 9: Azure's content filter error (param "prompt", not a parameter to rename or drop) is a plain
    permanent failure with Azure's message, sent to the deployment URL with its api-version."""
    profile = serve(AzureContentFilter)
    run = execute(enqueue(integrate(profile.document(openai_server.base_url)), messages=MESSAGES))

    (received,) = openai_server.completion_requests
    assert (received.path, received.query) == (profile.path, profile.query)
    assert (run.status, run.error_type) == ("failed", "bad_request")
    assert "content management policy" in run.error_message


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://acme.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21",
        "https://acme.openai.azure.com/openai/deployments/gpt-4o-prod?api-version=2024-10-21&api-key=0123456789abcdef",
    ],
    ids=["ends-in-chat-completions", "credential-in-query"],
)
def test_azure_endpoints_the_runner_cannot_use_as_given_are_refused_at_save(endpoint, integrate, openai_server):
    """Item 9: an endpoint already ending in /chat/completions, and a credential in the query string."""
    document = AzureOpenAI().document(openai_server.base_url)
    document["endpoint"] = endpoint
    with pytest.raises(Invalid) as refused:
        integrate(document, name="azure")

    assert [problem.loc for problem in refused.value.errors] == [("endpoint",)]


# -- vLLM ----------------------------------------------------------------------------------------------------------
def test_vllm_a_400_in_vllms_shape_fails_once_with_its_message(serve, integrate, enqueue, execute, openai_server):
    """vLLM's error body: `{"error": {"message", "type": "BadRequestError", "param": null, "code": 400}}`."""
    profile = serve(VLLM)
    integration = integrate(profile.document(openai_server.base_url))
    run = execute(enqueue(integration, messages=MESSAGES, parameters={"max_tokens": 5000}))

    assert len(openai_server.completion_requests) == 1
    assert (run.status, run.error_type) == ("failed", "bad_request")
    assert "maximum context length is 4096 tokens" in run.error_message


# -- Ollama --------------------------------------------------------------------------------------------------------
def test_ollama_a_model_not_pulled_is_model_not_found_with_ollamas_hint(
    serve, integrate, enqueue, execute, openai_server
):
    """Ollama answers 404 `not_found_error` "model ... not found, try pulling it first"."""
    profile = serve(Ollama)
    document = profile.document(openai_server.base_url)
    document["model_properties"][0]["name"] = "llama3.3:70b"
    run = execute(enqueue(integrate(document), messages=MESSAGES))

    assert (run.status, run.error_type) == ("failed", "model_not_found")
    assert 'model "llama3.3:70b" not found, try pulling it first' in run.error_message


# -- OpenRouter ----------------------------------------------------------------------------------------------------
class OpenRouterCutMidStream(OpenRouter):
    async def respond(self, recorded, body):
        return event_stream(self.stream_cut_by_error())


class OpenRouterErrorIn200(OpenRouter):
    async def respond(self, recorded, body):
        return JSONResponse(
            {"error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "DeepInfra"}}}
        )


def test_openrouter_an_error_in_the_middle_of_a_stream_fails_the_run_and_keeps_the_output(
    serve, integrate, enqueue, execute, openai_server
):
    """Items 7 and 12: OpenRouter's mid-stream error chunk (`error` object, finish_reason "error") after output
    began: a failure with OpenRouter's message, the output so far kept, and no second request."""
    profile = serve(OpenRouterCutMidStream)
    run = execute(enqueue(integrate(profile.document(openai_server.base_url)), messages=MESSAGES, stream=True))

    assert len(openai_server.completion_requests) == 1
    assert run.status == "failed"
    assert "Provider disconnected unexpectedly" in run.error_message
    assert run.output == "".join(ANSWER_PIECES[:2])


def test_openrouter_an_error_inside_a_200_is_a_failure_retried_like_its_code(
    serve, integrate, enqueue, execute, openai_server
):
    """Item 8: `{"error": {"code": 502, ...}}` with HTTP 200 is a provider error, retried like a 502."""
    profile = serve(OpenRouterErrorIn200)
    run = execute(enqueue(integrate(profile.document(openai_server.base_url)), messages=MESSAGES))

    assert (run.status, run.error_type) == ("failed", "provider_error")
    assert "Provider returned error" in run.error_message
    assert len(openai_server.completion_requests) == 3  # RUNNERS_MAX_RETRIES = 2 in these tests
    assert run.attempts == 3


# -- Groq ----------------------------------------------------------------------------------------------------------
def test_groq_seed_and_parallel_tool_calls_go_out_as_given(serve, integrate, enqueue, execute, openai_server):
    """Item 14: the run parameters `seed` and `parallel_tool_calls` (both in Groq's chat completions reference)."""
    profile = serve(Groq)
    document = profile.document(openai_server.base_url)
    document["model_properties"][0]["supported_parameters"] += ["seed", "parallel_tool_calls"]
    parameters = {"seed": 42, "parallel_tool_calls": False, "tools": [WEATHER_TOOL]}
    run = execute(enqueue(integrate(document), messages=MESSAGES, parameters=parameters))

    (received,) = openai_server.completion_requests
    assert received.json == {"model": profile.model, "messages": MESSAGES, **parameters}
    assert (run.status, run.finish_reason) == ("succeeded", "tool_calls"), run.error_message


# -- TGI -----------------------------------------------------------------------------------------------------------
def test_tgi_a_validation_error_in_tgis_shape_fails_once_with_its_message(
    serve, integrate, enqueue, execute, openai_server
):
    """TGI's error body is `{"error": "<message>", "error_type": "validation"}` with HTTP 422."""
    profile = serve(TGI)
    run = execute(
        enqueue(integrate(profile.document(openai_server.base_url)), messages=MESSAGES, parameters={"temperature": 0})
    )

    assert len(openai_server.completion_requests) == 1
    assert (run.status, run.error_type) == ("failed", "bad_request")
    assert "`temperature` must be strictly positive" in run.error_message
