"""A model's `parameter_names` (its own, or its built-in's through based_on) decide the wire names sent."""

from tests.runners.conftest import provider_document


def test_a_model_based_on_a_reasoning_model_sends_max_completion_tokens_at_once(
    execute, openai_server, integrate, enqueue
):
    openai_server.refuse_parameters("max_tokens")
    document = provider_document(openai_server.url, model_properties=[{"name": "o3", "based_on": "o3"}])

    run = execute(enqueue(integrate(document), parameters={"max_tokens": 3, "reasoning_effort": "low"}))

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.completion_requests
    assert received.json == {
        "model": "o3",
        "messages": [{"role": "user", "content": "Hello there"}],
        "max_completion_tokens": 3,
        "reasoning_effort": "low",
    }
    assert run.applied_rules == [] and len(run.attempt_log) == 1


def test_the_documents_parameter_names_rename_and_stop_still_goes_out_as_stop(
    execute, openai_server, integrate, enqueue
):
    document = provider_document(
        openai_server.url,
        model_properties=[
            {
                "name": "gateway-model",
                "supported_parameters": ["max_tokens", "stop", "temperature"],
                "parameter_names": {"max_tokens": "max_new_tokens"},
            }
        ],
    )

    execute(enqueue(integrate(document), parameters={"max_tokens": 8, "stop": "END", "temperature": 0}))

    (received,) = openai_server.completion_requests
    assert received.json == {
        "model": "gateway-model",
        "messages": [{"role": "user", "content": "Hello there"}],
        "max_new_tokens": 8,
        "stop": ["END"],
        "temperature": 0,
    }


def test_a_gpt_4o_based_model_keeps_max_tokens(execute, openai_server, integrate, enqueue):
    document = provider_document(openai_server.url, model_properties=[{"name": "gpt-4o", "based_on": "GPT-4o"}])

    execute(enqueue(integrate(document), parameters={"max_tokens": 3}))

    assert openai_server.completion_requests[0].json["max_tokens"] == 3
