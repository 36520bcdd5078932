"""OAuth2 client credentials: one token for many runs, refresh before expiry and once on 401, clear token errors."""

import json
import socket
import time

from runners.models import Run
from tests.fixtures.servers import Reply
from tests.fixtures.worker import wait_for_run


def closed_port_url(path: str = "/oauth2/token") -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def test_one_token_request_serves_twenty_concurrent_runs(
    celery_worker, openai_server, oauth2_server, integrate, enqueue
):
    openai_server.require_oauth2(oauth2_server)
    openai_server.latency = 0.2
    oauth2_server.delay = 0.2  # every run asks for a token while the first request is in flight
    integration = integrate(oauth2_server.document(openai_server.url))
    runs = [enqueue(integration) for _ in range(20)]

    finished = [wait_for_run(run.pk, timeout=20) for run in runs]

    assert {run.status for run in finished} == {"succeeded"}
    assert len(oauth2_server.token_requests) == 1
    (token,) = oauth2_server.issued_tokens
    assert {r.headers["authorization"] for r in openai_server.completion_requests} == {f"Bearer {token}"}


def test_a_token_is_refreshed_shortly_before_it_expires(execute, openai_server, oauth2_server, integrate, enqueue):
    openai_server.require_oauth2(oauth2_server)
    oauth2_server.expires_in = 1
    integration = integrate(oauth2_server.document(openai_server.url))

    assert execute(enqueue(integration)).status == "succeeded"
    time.sleep(1.0)
    assert execute(enqueue(integration)).status == "succeeded"

    assert len(oauth2_server.token_requests) == 2
    first, second = oauth2_server.issued_tokens
    assert [r.headers["authorization"] for r in openai_server.completion_requests] == [
        f"Bearer {first}",
        f"Bearer {second}",
    ]


def test_a_401_fetches_one_new_token_and_retries_once(execute, openai_server, oauth2_server, integrate, enqueue):
    openai_server.require_oauth2(oauth2_server)
    integration = integrate(oauth2_server.document(openai_server.url))
    execute(enqueue(integration))
    oauth2_server.revoke_all()

    run = execute(enqueue(integration))

    assert run.status == "succeeded", run.error_message
    assert len(oauth2_server.token_requests) == 2
    assert [a["status_code"] for a in run.attempt_log] == [401, 200]
    old, new = oauth2_server.issued_tokens
    assert [r.headers["authorization"] for r in openai_server.completion_requests[1:]] == [
        f"Bearer {old}",
        f"Bearer {new}",
    ]


def test_concurrent_401s_share_one_refetch(celery_worker, openai_server, oauth2_server, integrate, enqueue):
    openai_server.require_oauth2(oauth2_server)
    integration = integrate(oauth2_server.document(openai_server.url))
    wait_for_run(enqueue(integration).pk)
    oauth2_server.revoke_all()
    oauth2_server.delay = 0.2

    runs = [wait_for_run(run.pk, timeout=20) for run in [enqueue(integration) for _ in range(10)]]

    assert {run.status for run in runs} == {"succeeded"}
    assert len(oauth2_server.token_requests) == 2


def test_a_token_rejected_twice_fails_with_an_auth_error(execute, openai_server, oauth2_server, integrate, enqueue):
    openai_server.require_oauth2(oauth2_server)
    oauth2_server.expires_in = 0  # the server issues tokens its provider already considers expired
    integration = integrate(oauth2_server.document(openai_server.url))

    run = execute(enqueue(integration))

    assert run.status == "failed"
    assert run.error_type == "auth_rejected"
    assert "rejected the credentials (HTTP 401)" in run.error_message
    assert "A newly fetched OAuth2 token was rejected too." in run.error_message
    assert len(oauth2_server.token_requests) == 2
    assert len(openai_server.completion_requests) == 2


def test_an_unreachable_token_endpoint_is_reported(execute, openai_server, oauth2_server, integrate, enqueue):
    document = oauth2_server.document(openai_server.url, oauth2_token_url=closed_port_url())
    run = execute(enqueue(integrate(document)))

    assert run.status == "failed"
    assert run.error_type == "token_endpoint_error"
    assert run.error_message.startswith("Could not get an OAuth2 token: Connection to 127.0.0.1:")
    assert "was refused" in run.error_message
    assert run.attempts == 3  # connection errors are retried
    assert openai_server.completion_requests == []


def test_rejected_client_credentials_are_reported_without_the_secret(
    execute, openai_server, oauth2_server, integrate, enqueue
):
    token = json.dumps({"client_id": oauth2_server.client_id, "client_secret": "wrong-secret-value-99"})
    run = execute(enqueue(integrate(oauth2_server.document(openai_server.url, token=token))))

    assert run.status == "failed"
    assert run.error_type == "token_endpoint_error"
    assert run.error_message == (
        "The OAuth2 token endpoint answered HTTP 401: 'Client authentication failed.'. Check oauth2_token_url, "
        "the client id and secret and the scope. It refused the client both with the credentials in the form and "
        "with HTTP Basic."
    )
    assert run.attempts == 1  # a 4xx from the token endpoint is not retried
    # invalid_client with no oauth2_token_auth_method: the other method was tried once, then the run failed.
    assert [r.auth_method for r in oauth2_server.token_requests] == ["client_secret_post", "client_secret_basic"]
    assert "wrong-secret-value-99" not in json.dumps(run.request)


def test_a_scope_the_client_may_not_have_is_reported(execute, openai_server, oauth2_server, integrate, enqueue):
    run = execute(enqueue(integrate(oauth2_server.document(openai_server.url, scope="billing"))))

    assert run.error_type == "token_endpoint_error"
    assert "HTTP 400: 'The requested scope is not allowed for this client.'" in run.error_message


def test_a_token_answer_without_access_token_is_reported(execute, openai_server, oauth2_server, integrate, enqueue):
    oauth2_server.enqueue(Reply(json={"token_type": "Bearer", "expires_in": 3600}))
    run = execute(enqueue(integrate(oauth2_server.document(openai_server.url))))

    assert run.status == "failed"
    assert run.error_type == "token_endpoint_error"
    assert 'answered without an "access_token"' in run.error_message


def test_a_failing_token_endpoint_is_retried_like_a_provider(execute, openai_server, oauth2_server, integrate, enqueue):
    oauth2_server.enqueue(Reply(status=503, json={"error": "temporarily_unavailable"}))
    run = execute(enqueue(integrate(oauth2_server.document(openai_server.url))))

    assert run.status == "succeeded"
    assert len(oauth2_server.token_requests) == 2
    assert Run.objects.get(pk=run.pk).attempts == 2


def test_the_cached_token_is_encrypted(execute, openai_server, oauth2_server, integrate, enqueue):
    from django.core.cache import cache

    from runners.auth import client_credentials

    integration = integrate(oauth2_server.document(openai_server.url))
    execute(enqueue(integration))

    credentials = client_credentials(
        token_url=integration.token_url, token_document=integration.token, scope=integration.authentication_scope
    )
    stored = cache.get(credentials.cache_key)
    (token,) = oauth2_server.issued_tokens
    assert stored and token.encode() not in stored
