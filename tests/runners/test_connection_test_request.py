"""The Test button sends what a Playground run with default parameters sends: never a parameter nobody chose."""

from runners.connection_test import TEST_PROMPT, integration_test_start
from runners.models import Run
from tests.runners.conftest import provider_document

# What the Playground's default run sends: the messages, streamed, usage asked for; no parameter.
EXPECTED_BODY = {
    "model": "echo-model",
    "messages": [{"role": "user", "content": TEST_PROMPT}],
    "stream": True,
    "stream_options": {"include_usage": True},
}


def test_the_test_sends_exactly_the_messages_and_no_parameter(execute, openai_server, integrate, admin_user):
    # The model supports max_tokens, temperature and stop_sequences: none of them was chosen, none is sent.
    integration = integrate(provider_document(openai_server.url))

    job = integration_test_start(integration=integration, user=admin_user)
    (run,) = [execute(run) for run in Run.objects.filter(job=job)]

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.completion_requests
    assert received.json == EXPECTED_BODY
    assert run.parameters == {} and run.dropped_parameters == []
    assert run.usage == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_the_test_of_a_reasoning_model_succeeds_without_a_token_limit(execute, openai_server, integrate, admin_user):
    document = provider_document(openai_server.url, model_properties=[{"name": "reasoning-o3", "based_on": "o3"}])
    integration = integrate(document)

    job = integration_test_start(integration=integration, user=admin_user)
    (run,) = [execute(run) for run in Run.objects.filter(job=job)]

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.completion_requests
    assert received.json == {**EXPECTED_BODY, "model": "reasoning-o3"}
