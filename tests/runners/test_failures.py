"""Every way a provider call can fail ends in a clear, secret-free error on the run; transient ones are retried."""

import socket

import pytest

from tests.fixtures.servers import Reply
from tests.runners.conftest import provider_document


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def run_model(execute, openai_server, integrate, enqueue):
    """run_model(model_name, endpoint=None) -> the finished Run."""

    def run(model: str = "echo-model", endpoint: str | None = None):
        integration = integrate(provider_document(endpoint or openai_server.url, models=[model]))
        return execute(enqueue(integration))

    return run


def test_a_refused_connection_is_retried_then_reported(run_model):
    port = closed_port()
    run = run_model(endpoint=f"http://127.0.0.1:{port}/v1")

    assert run.status == "failed"
    assert run.error_type == "connection_refused"
    assert run.error_message == (
        f"Connection to 127.0.0.1:{port} was refused: is the provider running, and is the port in the URL right? "
        "Gave up after 3 attempts."
    )
    assert run.attempts == 3
    assert run.request["url"] == f"http://127.0.0.1:{port}/v1/chat/completions"


def test_a_dns_failure_is_reported_without_retrying(run_model):
    run = run_model(endpoint="http://no-such-provider.invalid/v1")

    assert run.error_type == "dns_failure"
    assert (
        run.error_message
        == 'The host name "no-such-provider.invalid" could not be resolved (DNS failure): check the URL.'
    )
    assert run.attempts == 1


def test_a_tls_error_is_reported_without_retrying(run_model, openai_server):
    run = run_model(endpoint=openai_server.url.replace("http://", "https://"))

    assert run.error_type == "tls_error"
    port = openai_server.url.split(":")[2][:-3]
    assert run.error_message == (
        f"127.0.0.1:{port} does not speak TLS on this port: if it serves plain HTTP, the endpoint must be http://."
    )
    assert run.attempts == 1
    assert openai_server.completion_requests == []


def test_a_provider_slower_than_the_timeout_fails_with_a_timeout(run_model, settings):
    settings.RUNNERS_REQUEST_TIMEOUT = 1
    settings.RUNNERS_MAX_RETRIES = 1
    run = run_model("slow-3")

    assert run.error_type == "timeout"
    assert run.error_message == (
        "The provider sent nothing for 1 s (RUNNERS_REQUEST_TIMEOUT, the longest wait for the first byte and "
        "between two chunks). Gave up after 2 attempts."
    )
    assert run.attempts == 2


def test_a_run_never_outlives_its_deadline(run_model, settings):
    settings.RUNNERS_MAX_RUN_SECONDS = 1
    run = run_model("slow-3")

    assert run.error_type == "timeout"
    assert run.error_message == "The run reached its time limit of 1 s (RUNNERS_MAX_RUN_SECONDS)."
    assert (run.finished_at - run.started_at).total_seconds() < 2


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_say_so_and_are_not_retried(run_model, status):
    run = run_model(f"status-{status}")

    assert run.status == "failed"
    assert run.error_type == "auth_rejected"
    assert run.error_message == (
        f'The provider rejected the credentials (HTTP {status}): "Simulated HTTP {status} for status-{status}.". '
        "Check the authentication settings of the integration (header name, key or token, scope)."
    )
    assert run.attempts == 1


def test_a_provider_echoing_the_key_in_its_error_does_not_leak_it(run_model, openai_server):
    openai_server.enqueue(Reply(status=401, json={"error": {"message": "Incorrect API key: sk-test-ABC123xyz"}}))
    run = run_model()

    assert run.error_type == "auth_rejected"
    assert "sk-test-ABC123xyz" not in run.error_message
    assert '"Incorrect API key: ********"' in run.error_message


def test_a_404_asks_to_check_the_model_name(run_model, openai_server):
    run = run_model("status-404")

    assert run.error_type == "model_not_found"
    assert run.error_message == (
        f'The provider answered 404 Not Found for model "status-404" at {openai_server.url}/chat/completions: '
        '"Simulated HTTP 404 for status-404.": check the model name (it is sent verbatim) and that the endpoint is '
        "the API's base URL."
    )
    assert run.attempts == 1


def test_a_429_honours_retry_after_and_then_succeeds(run_model, openai_server, settings):
    settings.RUNNERS_RETRY_AFTER_MAX = 5
    openai_server.enqueue(Reply(status=429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "1"}))
    run = run_model()

    assert run.status == "succeeded"
    first, second = openai_server.completion_requests
    assert 0.9 <= second.received_at - first.received_at < 2
    assert [a["status_code"] for a in run.attempt_log] == [429, 200]
    assert run.attempts == 2


def test_a_retry_after_beyond_the_cap_is_capped(run_model, openai_server, settings):
    settings.RUNNERS_RETRY_AFTER_MAX = 0.3
    openai_server.enqueue(Reply(status=503, headers={"Retry-After": "3600"}))
    run = run_model()

    assert run.status == "succeeded"
    first, second = openai_server.completion_requests
    assert 0.25 <= second.received_at - first.received_at < 1


def test_rate_limiting_that_does_not_stop_fails_after_the_retries(run_model, openai_server):
    run = run_model("status-429")

    assert run.error_type == "rate_limited"
    assert run.error_message == (
        'The provider is rate limiting requests (HTTP 429): "Simulated HTTP 429 for status-429.". Gave up after 3 '
        "attempts."
    )
    assert run.attempts == 3 and len(openai_server.completion_requests) == 3


def test_a_server_error_is_retried_and_can_recover(run_model, openai_server):
    openai_server.enqueue(Reply(status=500, body="oops"), Reply(status=502, body="bad gateway"))
    run = run_model()

    assert run.status == "succeeded"
    assert [a["status_code"] for a in run.attempt_log] == [500, 502, 200]


def test_server_errors_that_persist_fail_with_the_status(run_model, openai_server):
    run = run_model("status-503")

    assert run.error_type == "provider_error"
    assert run.error_message == (
        'The provider failed with HTTP 503: "Simulated HTTP 503 for status-503.". Gave up after 3 attempts.'
    )
    assert len(openai_server.completion_requests) == 3


def test_other_client_errors_are_not_retried(run_model, openai_server):
    run = run_model("status-400")

    assert run.error_type == "bad_request"
    assert run.error_message == 'The provider refused the request with HTTP 400: "Simulated HTTP 400 for status-400.".'
    assert len(openai_server.completion_requests) == 1


def test_a_redirect_is_not_followed(run_model, openai_server):
    openai_server.enqueue(Reply(status=301, headers={"Location": "https://api.example.com/v2/chat/completions?k=1"}))
    run = run_model()

    assert run.error_type == "bad_request"
    assert run.error_message == (
        "The provider redirected the request (HTTP 301) to https://api.example.com/v2/chat/completions: use the "
        "final URL as the endpoint."
    )
    assert len(openai_server.completion_requests) == 1


def test_an_html_page_is_not_a_completion(run_model):
    run = run_model("html")

    assert run.error_type == "invalid_response"
    assert run.error_message == (
        "The provider answered HTTP 200 with a body that is not JSON (text/html) (an HTML page: is the endpoint "
        "the API's base URL, not a web page?)."
    )
    assert run.attempts == 1


def test_a_body_that_is_not_json_is_reported(run_model):
    run = run_model("not-json")

    assert run.error_type == "invalid_response"
    assert run.error_message == "The provider answered HTTP 200 with a body that is not JSON (application/json)."


def test_json_that_is_not_a_completion_is_reported(run_model):
    run = run_model("malformed")

    assert run.error_type == "malformed_completion"
    assert run.error_message == "The provider's answer is not a Chat Completion (choices: Field required)."


def test_a_completion_without_a_message_is_reported(run_model, openai_server):
    openai_server.enqueue(Reply(json={"choices": [{"index": 0, "text": "legacy completion"}]}))
    run = run_model()

    assert run.error_type == "malformed_completion"
    assert run.error_message == "The provider's answer is not a Chat Completion (choices[0].message: Field required)."
