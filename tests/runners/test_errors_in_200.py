"""An error object where an answer was expected (an HTTP 200 body, the first event of a stream) is a failure with
the provider's message, classified by its code as the HTTP status it stands for."""

import pytest

from tests.fixtures.servers import EventStream, Reply
from tests.runners.conftest import provider_document


def run_with(execute, openai_server, integrate, enqueue, *answers, stream=False):
    openai_server.enqueue(*answers)
    return execute(enqueue(integrate(provider_document(openai_server.url)), stream=stream))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}, "rate_limited"),
        ({"message": "Too many requests", "code": 429}, "rate_limited"),
        ({"message": "Upstream error from provider", "code": 502}, "provider_error"),
        ({"message": "The server had an error", "type": "server_error", "code": None}, "provider_error"),
    ],
)  # fmt: skip
def test_a_429_or_5xx_error_in_a_200_is_retried_like_that_status(
    execute, openai_server, integrate, enqueue, error, kind
):
    run = run_with(execute, openai_server, integrate, enqueue, Reply(json={"error": error}))

    assert run.status == "succeeded", run.error_message
    assert [attempt["error_type"] for attempt in run.attempt_log] == [kind, None]
    assert run.output == "echo: Hello there"


def test_a_retried_error_in_a_200_that_persists_fails_with_the_providers_message(
    execute, openai_server, integrate, enqueue
):
    error = Reply(json={"error": {"message": "Overloaded", "code": 503}})
    run = run_with(execute, openai_server, integrate, enqueue, error, error, error)

    assert run.status == "failed"
    assert run.error_type == "provider_error"
    assert run.error_message == (
        'The provider reported an error in its answer with HTTP 200 (error code "503"): "Overloaded". '
        "Gave up after 3 attempts."
    )
    assert run.output is None


@pytest.mark.parametrize(
    ("body", "kind", "said"),
    [
        ({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}, "auth_rejected",
         '(error code "invalid_api_key"): "Incorrect API key provided"'),
        ({"error": {"message": "The model `x` does not exist", "type": "invalid_request_error",
                    "code": "model_not_found"}}, "model_not_found",
         '(error code "model_not_found", type "invalid_request_error"): "The model `x` does not exist"'),
        # vLLM's ErrorResponse
        ({"object": "error", "message": "max_tokens must be at least 1", "type": "BadRequestError", "code": 400},
         "bad_request", '(error code "400", type "BadRequestError"): "max_tokens must be at least 1"'),
        # TGI
        ({"error": "Input validation error: inputs too long", "error_type": "validation"}, "provider_error",
         '(type "validation"): "Input validation error: inputs too long"'),
    ],
)  # fmt: skip
def test_other_errors_in_a_200_fail_at_once_with_their_kind(
    execute, openai_server, integrate, enqueue, body, kind, said
):
    run = run_with(execute, openai_server, integrate, enqueue, Reply(json=body))

    assert run.status == "failed"
    assert run.error_type == kind
    assert run.error_message == f"The provider reported an error in its answer with HTTP 200 {said}."
    assert run.attempts == 1


def test_a_secret_echoed_in_an_error_in_a_200_is_scrubbed(execute, openai_server, integrate, enqueue):
    error = Reply(json={"error": {"message": "Key sk-test-ABC123xyz is not allowed", "code": "permission_denied"}})
    run = run_with(execute, openai_server, integrate, enqueue, error)

    assert run.error_type == "auth_rejected"
    assert "sk-test-ABC123xyz" not in run.error_message
    assert "********" in run.error_message


def test_an_error_as_the_first_event_of_a_stream_is_retried_like_its_code(execute, openai_server, integrate, enqueue):
    limited = EventStream([{"error": {"message": "Slow down", "code": 429}}])
    run = run_with(execute, openai_server, integrate, enqueue, limited, stream=True)

    assert run.status == "succeeded", run.error_message
    assert [attempt["error_type"] for attempt in run.attempt_log] == ["rate_limited", None]


def test_a_completion_with_a_null_error_field_is_an_answer(execute, openai_server, integrate, enqueue):
    choice = {"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}
    answer = {"id": "x", "object": "chat.completion", "error": None, "choices": [choice]}
    run = run_with(execute, openai_server, integrate, enqueue, Reply(json=answer))

    assert (run.status, run.output) == ("succeeded", "fine")
