"""Issue 13 items 9 and 10 at run time, against the real test provider: the URL a run is sent to (path and query as
received), and header values the HTTP client refuses as a permanent, plainly named failure that is never retried."""

import json

import pytest
from django.utils import timezone

from integrations.models import Integration
from runners.connection_test import integration_test_start
from runners.models import Run
from tests.fixtures.servers import Reply
from tests.runners.conftest import provider_document
from tests.runners.test_custom_handlers import handler_document, handlers_dir  # noqa: F401 (a fixture)

SECRET = "hdr-secret-Qm47Ws"


@pytest.mark.parametrize(
    "path, expected_path, expected_query",
    [
        (
            "/openai/deployments/gpt-4o?api-version=2024-10-21",
            "/openai/deployments/gpt-4o/chat/completions",
            "api-version=2024-10-21",
        ),
        (
            "/openai/deployments/gpt-4o/?api-version=2024-10-21",
            "/openai/deployments/gpt-4o/chat/completions",
            "api-version=2024-10-21",
        ),
        ("/openai/v1/", "/openai/v1/chat/completions", ""),
        ("/v1?tenant=acme&region=eu", "/v1/chat/completions", "tenant=acme&region=eu"),
        ("", "/chat/completions", ""),
        ("/", "/chat/completions", ""),
    ],
)
def test_chat_completions_goes_onto_the_path_and_the_query_string_is_kept(
    execute, openai_server, integrate, enqueue, path, expected_path, expected_query
):
    endpoint = openai_server.base_url + path
    run = execute(enqueue(integrate(provider_document(endpoint))))

    assert run.status == "succeeded", run.error_message
    [received] = openai_server.completion_requests
    assert (received.path, received.query) == (expected_path, expected_query)
    query = f"?{expected_query}" if expected_query else ""
    assert run.request["url"] == f"{openai_server.base_url}{expected_path}{query}"


def test_the_test_button_sends_to_the_same_url(execute, openai_server, integrate, admin_user):
    endpoint = f"{openai_server.base_url}/openai/deployments/gpt-4o?api-version=2024-10-21"
    integration = integrate(provider_document(endpoint, models=("gpt-4o", "gpt-4o-mini")))
    job = integration_test_start(integration=integration, user=admin_user)
    for run in Run.objects.filter(job=job):
        assert execute(run).status == "succeeded"
    assert [(r.path, r.query) for r in openai_server.completion_requests] == [
        ("/openai/deployments/gpt-4o/chat/completions", "api-version=2024-10-21")
    ] * 2


@pytest.mark.usefixtures("handlers_dir")
def test_the_example_handler_keeps_the_endpoints_query_string(execute, openai_server, integrate, enqueue):
    endpoint = f"{openai_server.base_url}/inference/?api-version=7"
    run = execute(enqueue(integrate(handler_document(openai_server, endpoint=endpoint))))

    assert run.status == "succeeded", run.error_message
    [received] = openai_server.generate_requests
    assert (received.path, received.query) == ("/inference/generate", "api-version=7")


def store_bypassing_validation(integration: Integration, **fields) -> None:
    """What a database written before the save-time check may hold (updated_at moves, as any change does)."""
    Integration.objects.filter(pk=integration.pk).update(updated_at=timezone.now(), **fields)


STORED_BAD_VALUES = {
    "trailing space": f"{SECRET} ",
    "line break": f"{SECRET}\r\nX-Injected: yes",
    "not ASCII": f"{SECRET}\u2019",
    "control character": f"{SECRET}\x07",
}


@pytest.mark.parametrize("case", STORED_BAD_VALUES, ids=list(STORED_BAD_VALUES))
def test_a_stored_header_value_http_cannot_carry_fails_the_run_at_once_naming_the_header(
    execute, openai_server, integrate, enqueue, case
):
    integration = integrate(provider_document(openai_server.url))
    store_bypassing_validation(integration, headers={"X-Tenant": STORED_BAD_VALUES[case]})
    run = execute(enqueue(integration))

    assert (run.status, run.error_type, run.attempts) == ("failed", "invalid_header", 1)
    assert run.error_message.startswith('The request header "X-Tenant" cannot be sent as it is: ')
    assert openai_server.requests == []  # nothing went out, and nothing was retried
    assert SECRET not in json.dumps([run.error_message, run.request, run.attempt_log])


def test_an_api_key_stored_with_a_trailing_space_is_not_trimmed_but_refused(execute, openai_server, integrate, enqueue):
    integration = integrate(provider_document(openai_server.url))
    store_bypassing_validation(integration, api_key_value=f"{SECRET}\t")
    run = execute(enqueue(integration))

    assert (run.error_type, run.attempts) == ("invalid_header", 1)
    assert run.error_message == (
        'The request header "x-portkey-api-key" cannot be sent as it is: The value ends with a space or tab, which '
        "the HTTP client refuses to send (RFC 9110 section 5.5): remove it (a value is never trimmed for you)."
    )
    assert openai_server.requests == []


def test_an_access_token_with_a_line_break_is_a_permanent_failure_not_a_retried_network_error(
    execute, openai_server, oauth2_server, integrate, enqueue
):
    oauth2_server.enqueue(Reply(json={"access_token": "at-first\nX-Evil: 1", "token_type": "Bearer"}))
    run = execute(enqueue(integrate(oauth2_server.document(openai_server.url))))

    assert (run.status, run.error_type, run.attempts) == ("failed", "invalid_header", 1)
    assert run.error_message.startswith('The request header "Authorization" cannot be sent as it is: Character 16')
    assert openai_server.requests == []
    assert "at-first" not in run.error_message


@pytest.mark.parametrize("value", [f"{SECRET} ", f"{SECRET}\u00e9"], ids=["h11 refuses", "httpx refuses"])
def test_a_header_the_http_client_itself_refuses_is_classified_the_same(
    execute, openai_server, integrate, enqueue, monkeypatch, value
):
    # Without the runner's own check, the client's refusal (h11's LocalProtocolError, httpx's UnicodeEncodeError)
    # must still be a permanent invalid_header, not a connection_error retried RUNNERS_MAX_RETRIES times.
    monkeypatch.setattr("runners.transport.refused_header", lambda headers: None)
    integration = integrate(provider_document(openai_server.url))
    store_bypassing_validation(integration, headers={"X-Tenant": value})
    run = execute(enqueue(integration))

    assert (run.status, run.error_type, run.attempts) == ("failed", "invalid_header", 1)
    assert run.error_message.startswith("The HTTP client refused a request header value")
    assert SECRET not in run.error_message
    assert openai_server.requests == []


def test_mapped_ids_are_always_sendable_header_values(execute, openai_server, integrate, enqueue):
    mapping = {"job_id": "X-Job", "user_id": "X-User", "project_id": "X-Project", "run_id": "X-Run"}
    run = execute(enqueue(integrate(provider_document(openai_server.url, custom_header_mapping=mapping))))

    assert run.status == "succeeded"
    [received] = openai_server.completion_requests
    assert (received.headers["x-run"], received.headers["x-user"]) == (str(run.pk), str(run.user_id))
