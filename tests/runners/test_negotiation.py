"""A provider refuses a request because of a named parameter: one retry with it renamed or dropped, a rule learned,
later runs apply it at once (runners/negotiation.py), against the fake provider worded as each real server words it.
"""

import json
import threading

import pytest

from integrations.models import ParameterRule
from integrations.parameter_rules import parameter_rule_learn
from runners.negotiation import refusal_of
from tests.factories import SEED_GPT_52
from tests.fixtures.servers import REFUSAL_STYLES, Reply, refusal_reply
from tests.runners.conftest import provider_document

MESSAGES = [{"role": "user", "content": "Hello there"}]


def seed_document(endpoint: str) -> dict:
    return provider_document(endpoint, model_properties=[SEED_GPT_52])


def test_the_product_pages_first_example_works_against_a_reasoning_model(execute, openai_server, integrate, enqueue):
    openai_server.refuse_parameters("max_tokens")  # as OpenAI's gpt-5 family and o-series do
    integration = integrate(seed_document(openai_server.url))

    run = execute(enqueue(integration, parameters={"max_tokens": 50}))

    assert run.status == "succeeded", run.error_message
    assert run.output == "echo: Hello there"
    refused, accepted = openai_server.completion_requests
    assert refused.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_tokens": 50}
    assert accepted.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_completion_tokens": 50}
    assert run.request["body"] == accepted.json
    assert run.dropped_parameters == []
    first, second = run.attempt_log
    assert (first["status_code"], first["error_type"], first["refused_parameters"]) == (
        400,
        "bad_request",
        ["max_tokens"],
    )
    assert (second["status_code"], second["error_type"]) == (200, None)
    rule = ParameterRule.objects.get(integration=integration)
    assert (rule.model_name, rule.parameter, rule.action, rule.to) == (
        "gpt-5.2",
        "max_tokens",
        "rename",
        "max_completion_tokens",
    )
    assert rule.reason.startswith("Unsupported parameter: 'max_tokens' is not supported with this model.")
    assert rule.learned_from_run == run.pk
    assert run.applied_rules == [
        {"parameter": "max_tokens", "action": "rename", "to": "max_completion_tokens", "rule": str(rule.uuid)}
    ]


def test_a_later_run_applies_the_learned_rule_at_once(execute, openai_server, integrate, enqueue):
    openai_server.refuse_parameters("max_tokens")
    integration = integrate(seed_document(openai_server.url))
    execute(enqueue(integration, parameters={"max_tokens": 50}))
    openai_server.requests.clear()

    run = execute(enqueue(integration, parameters={"max_tokens": 2}))

    (received,) = openai_server.completion_requests
    assert received.json == {"model": "gpt-5.2", "messages": MESSAGES, "max_completion_tokens": 2}
    assert run.status == "succeeded" and run.finish_reason == "length"
    assert len(run.attempt_log) == 1
    assert [rule["parameter"] for rule in run.applied_rules] == ["max_tokens"]
    # A run that does not send the parameter applies nothing.
    assert execute(enqueue(integration)).applied_rules == []


@pytest.mark.parametrize("style", [s for s in REFUSAL_STYLES if s != "openai_value"])
def test_a_refused_parameter_is_dropped_as_each_provider_words_the_refusal(
    style, execute, openai_server, integrate, enqueue
):
    openai_server.refuse_parameters("seed", style=style)
    document = provider_document(
        openai_server.url,
        model_properties=[{"name": "served-model", "supported_parameters": ["temperature", "seed"]}],
    )
    integration = integrate(document)

    run = execute(enqueue(integration, parameters={"seed": 7, "temperature": 0.5}))

    assert run.status == "succeeded", run.error_message
    refused, accepted = openai_server.completion_requests
    assert refused.json["seed"] == 7
    assert accepted.json == {"model": "served-model", "messages": MESSAGES, "temperature": 0.5}
    assert run.dropped_parameters == ["seed"]
    assert run.request["body"] == accepted.json
    rule = ParameterRule.objects.get(integration=integration)
    assert (rule.parameter, rule.action, rule.to) == ("seed", "drop", None)
    # The next run leaves it out before sending, and says so when it is created.
    openai_server.requests.clear()
    later = enqueue(integration, parameters={"seed": 7, "temperature": 0.5})
    assert later.dropped_parameters == ["seed"]
    assert execute(later).status == "succeeded"
    assert "seed" not in openai_server.completion_requests[0].json


def test_a_value_only_the_default_of_which_is_accepted_is_dropped(execute, openai_server, integrate, enqueue):
    openai_server.refuse_parameters("temperature", style="openai_value")  # o-series: "Only the default (1)"
    integration = integrate(provider_document(openai_server.url))

    run = execute(enqueue(integration, parameters={"temperature": 0.2, "max_tokens": 20}))

    assert run.status == "succeeded", run.error_message
    assert openai_server.completion_requests[1].json == {
        "model": "echo-model",
        "messages": MESSAGES,
        "max_tokens": 20,
    }
    assert run.dropped_parameters == ["temperature"]
    assert run.applied_rules[0] | {"rule": None} == {
        "parameter": "temperature",
        "action": "drop",
        "to": None,
        "rule": None,
    }


@pytest.mark.parametrize("style", ["openai", "azure_legacy", "vllm", "litellm", "groq", "mistral"])
def test_a_server_that_refuses_stream_options_streams_without_them(style, execute, openai_server, integrate, enqueue):
    openai_server.refuse_parameters("stream_options", style=style)
    integration = integrate(provider_document(openai_server.url))

    run = execute(enqueue(integration, stream=True))

    assert run.status == "succeeded", run.error_message
    assert run.output == "echo: Hello there"
    refused, accepted = openai_server.completion_requests
    assert refused.json["stream_options"] == {"include_usage": True}
    assert accepted.json == {"model": "echo-model", "messages": MESSAGES, "stream": True}
    assert run.dropped_parameters == []  # not a run parameter: applied_rules says it
    assert [(r["parameter"], r["action"]) for r in run.applied_rules] == [("stream_options", "drop")]
    # Later streamed runs send no stream_options at once; a plain run is untouched by the rule.
    openai_server.requests.clear()
    assert execute(enqueue(integration, stream=True)).status == "succeeded"
    assert "stream_options" not in openai_server.completion_requests[0].json
    assert execute(enqueue(integration)).applied_rules == []


def test_the_runner_retries_only_once_and_a_later_run_drops_what_no_name_gets_through(
    execute, openai_server, integrate, enqueue
):
    openai_server.refuse_parameters("max_tokens", "max_completion_tokens")
    integration = integrate(provider_document(openai_server.url))

    run = execute(enqueue(integration, parameters={"max_tokens": 5}))

    assert run.status == "failed" and run.error_type == "bad_request"
    assert "max_completion_tokens" in run.error_message
    assert [a["status_code"] for a in run.attempt_log] == [400, 400]
    assert run.request["body"]["max_completion_tokens"] == 5
    # The next run sends the renamed parameter, is refused again, and drops it: the rule is replaced.
    later = execute(enqueue(integration, parameters={"max_tokens": 5}))
    assert later.status == "succeeded", later.error_message
    assert later.dropped_parameters == ["max_tokens"]
    rule = ParameterRule.objects.get(integration=integration)
    assert (rule.action, rule.to) == ("drop", None)


def test_a_400_that_names_no_parameter_is_not_negotiated(execute, openai_server, integrate, enqueue):
    integration = integrate(provider_document(openai_server.url, models=("status-400",)))

    run = execute(enqueue(integration, parameters={"max_tokens": 5}))

    assert run.status == "failed" and run.error_type == "bad_request"
    assert len(openai_server.completion_requests) == 1
    assert not ParameterRule.objects.exists()


def test_a_refusal_of_a_parameter_that_was_not_sent_is_not_negotiated(execute, openai_server, integrate, enqueue):
    openai_server.enqueue(refusal_reply("openai", "logit_bias"))
    run = execute(enqueue(integrate(provider_document(openai_server.url)), parameters={"max_tokens": 5}))

    assert run.status == "failed"
    assert len(openai_server.completion_requests) == 1
    assert not ParameterRule.objects.exists()


def test_the_learned_reason_carries_no_secret(execute, openai_server, integrate, enqueue):
    echoed = {
        "error": {
            "message": "Unsupported parameter: 'seed' (request by key sk-test-ABC123xyz).",
            "type": "invalid_request_error",
            "param": "seed",
            "code": "unsupported_parameter",
        }
    }
    openai_server.enqueue(Reply(status=400, json=echoed))
    document = provider_document(openai_server.url, model_properties=[{"name": "m", "supported_parameters": ["seed"]}])

    run = execute(enqueue(integrate(document), parameters={"seed": 1}))

    assert run.status == "succeeded"
    rule = ParameterRule.objects.get()
    assert "sk-test-ABC123xyz" not in rule.reason and "ABC123" not in rule.reason
    assert "sk-test-ABC123xyz" not in json.dumps(run.attempt_log)


def test_a_document_rename_is_undone_for_a_server_that_only_knows_max_tokens(
    execute, openai_server, integrate, enqueue
):
    openai_server.refuse_parameters("max_completion_tokens", style="vllm")
    document = provider_document(
        openai_server.url,
        model_properties=[
            {
                "name": "served-model",
                "supported_parameters": ["max_tokens"],
                "parameter_names": {"max_tokens": "max_completion_tokens"},
            }
        ],
    )

    run = execute(enqueue(integrate(document), parameters={"max_tokens": 9}))

    assert run.status == "succeeded", run.error_message
    assert openai_server.completion_requests[1].json["max_tokens"] == 9
    assert [(r["parameter"], r["action"], r["to"]) for r in run.applied_rules] == [
        ("max_tokens", "rename", "max_tokens")
    ]


@pytest.mark.django_db(transaction=True)
def test_runs_learning_the_same_rule_at_once_make_one_rule(org, admin_user):
    from tests.factories import make_integration

    integration = make_integration(
        organization=org, user=admin_user, name="custom", document=provider_document("https://api.example.com/v1")
    )
    start = threading.Barrier(6)
    learned = []

    def learn(number):
        start.wait()
        rule = parameter_rule_learn(
            integration_id=integration.pk,
            model_name="echo-model",
            parameter="max_tokens",
            action="rename",
            to="max_completion_tokens",
            reason="Unsupported parameter",
            run_id=None,
        )
        learned.append(rule.uuid)

    threads = [threading.Thread(target=learn, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert ParameterRule.objects.count() == 1
    assert set(learned) == {ParameterRule.objects.get().uuid}


# -- classification, one provider wording at a time ------------------------------------------------------------------


@pytest.mark.parametrize("style", REFUSAL_STYLES)
def test_each_providers_refusal_names_the_parameter(style):
    reply = refusal_reply(style, "seed")
    refusal = refusal_of(400, json.dumps(reply.json).encode(), {"model": "m", "messages": [], "seed": 1})

    assert refusal is not None and refusal.wire_names == ("seed",)
    assert refusal.value_refused == (style == "openai_value")


def test_litellm_lists_several_parameters_and_each_sent_one_is_refused():
    message = "litellm.UnsupportedParamsError: bedrock does not support parameters: ['seed', 'top_k', 'logit_bias']"
    body = {"error": {"message": message, "type": "None", "param": "None", "code": "400"}}
    refusal = refusal_of(400, json.dumps(body).encode(), {"model": "m", "messages": [], "seed": 1, "top_k": 3})

    assert refusal.wire_names == ("seed", "top_k")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": {"message": "This model's maximum context length is 4096 tokens.", "param": "messages"}}),
        (
            400,
            {
                "error": {
                    "message": "Invalid value for 'seed': must be an integer.",
                    "param": "seed",
                    "code": "invalid_type",
                }
            },
        ),
        (
            401,
            {"error": {"message": "Unsupported parameter: 'seed'", "param": "seed", "code": "unsupported_parameter"}},
        ),
        (
            400,
            {"error": {"message": "Unsupported parameter: 'model'", "param": "model", "code": "unsupported_parameter"}},
        ),
        (400, "not json"),
    ],
)
def test_other_refusals_are_not_negotiated(status, body):
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()

    assert refusal_of(status, raw, {"model": "m", "messages": [], "seed": 1}) is None


def test_a_litellm_proxy_passing_on_openais_refusal_is_understood():
    # LiteLLM's proxy wraps the upstream's words in its own exception name and keeps `param`; `code` is the status.
    message = (
        "litellm.BadRequestError: OpenAIException - Unsupported parameter: 'max_tokens' is not supported with this "
        "model. Use 'max_completion_tokens' instead."
    )
    body = {"error": {"message": message, "type": None, "param": "max_tokens", "code": "400"}}

    refusal = refusal_of(400, json.dumps(body).encode(), {"model": "m", "messages": [], "max_tokens": 5})

    assert refusal.wire_names == ("max_tokens",) and not refusal.value_refused


def test_mistral_refusing_max_completion_tokens_gets_max_tokens(execute, openai_server, integrate, enqueue):
    # Mistral's API forbids keys it does not know (422 extra_forbidden), max_completion_tokens among them.
    openai_server.refuse_parameters("max_completion_tokens", style="mistral")
    document = provider_document(
        openai_server.url,
        model_properties=[
            {
                "name": "mistral-large-latest",
                "supported_parameters": ["max_tokens"],
                "parameter_names": {"max_tokens": "max_completion_tokens"},
            }
        ],
    )

    run = execute(enqueue(integrate(document), parameters={"max_tokens": 4}))

    assert run.status == "succeeded", run.error_message
    assert [
        r.json.get("max_completion_tokens", r.json.get("max_tokens")) for r in openai_server.completion_requests
    ] == [4, 4]
    assert openai_server.completion_requests[1].json["max_tokens"] == 4
    assert ParameterRule.objects.get().reason == "body.max_completion_tokens: Extra inputs are not permitted"


def test_a_nested_extra_input_is_no_parameter_refusal():
    item = {
        "type": "extra_forbidden",
        "loc": ["body", "messages", 0, "user", "name"],
        "msg": "Extra inputs are not permitted",
    }
    body = {"object": "error", "message": {"detail": [item]}, "type": "invalid_request_error", "param": None}

    assert refusal_of(422, json.dumps(body).encode(), {"model": "m", "messages": [], "seed": 1}) is None


def test_mistrals_message_as_json_text_is_read_too():
    detail = {
        "detail": [
            {"type": "extra_forbidden", "loc": ["body", "frequency_penalty"], "msg": "Extra inputs are not permitted"}
        ]
    }
    body = {
        "object": "error",
        "message": json.dumps(detail),
        "type": "internal_error_proxy",
        "param": None,
        "code": "1000",
    }

    refusal = refusal_of(422, json.dumps(body).encode(), {"model": "m", "messages": [], "frequency_penalty": 0.5})

    assert refusal.wire_names == ("frequency_penalty",)
