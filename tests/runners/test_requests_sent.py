"""What the provider receives, exactly, for each authentication type (DESIGN.md §4)."""

import json

from runners.execution import run_execute
from runners.services import job_create
from tests.factories import ProjectFactory
from tests.runners.conftest import provider_document, sent_headers

BASE_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json",
    "user-agent": "custom-model-integrations-runner/1.0",
}


def test_api_key_sends_only_the_configured_header(execute, openai_server, integrate, enqueue):
    integration = integrate(provider_document(openai_server.url))
    run = execute(enqueue(integration))

    assert run.status == "succeeded", run.error_message
    (received,) = openai_server.completion_requests
    assert received.path == "/v1/chat/completions"
    assert sent_headers(received) == {**BASE_HEADERS, "x-portkey-api-key": "sk-test-ABC123xyz"}
    assert "authorization" not in received.headers


def test_bearer_token_goes_in_the_authorization_header_as_given(execute, openai_server, integrate, enqueue):
    document = provider_document(
        openai_server.url, api_key_header="Authorization", api_key_value="Bearer tgp_v1_abcdef123456"
    )
    execute(enqueue(integrate(document)))

    (received,) = openai_server.completion_requests
    assert sent_headers(received) == {**BASE_HEADERS, "authorization": "Bearer tgp_v1_abcdef123456"}


def test_no_authentication_sends_no_credential(execute, openai_server, integrate, enqueue):
    run = execute(enqueue(integrate(provider_document(openai_server.url, auth="none"))))

    assert run.status == "succeeded"
    (received,) = openai_server.completion_requests
    assert sent_headers(received) == BASE_HEADERS


def test_oauth2_sends_the_issued_token_and_asks_for_the_scope(
    execute, openai_server, oauth2_server, integrate, enqueue
):
    openai_server.require_oauth2(oauth2_server)
    integration = integrate(oauth2_server.document(openai_server.url, scope="inference"))
    run = execute(enqueue(integration))

    assert run.status == "succeeded", run.error_message
    (token_request,) = oauth2_server.token_requests
    assert token_request.form == {
        "grant_type": "client_credentials",
        "client_id": oauth2_server.client_id,
        "client_secret": oauth2_server.client_secret,
        "scope": "inference",
    }
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in token_request.headers
    (received,) = openai_server.completion_requests
    assert sent_headers(received) == {**BASE_HEADERS, "authorization": f"Bearer {token_request.access_token}"}


def test_oauth2_without_scope_sends_no_scope(execute, openai_server, oauth2_server, integrate, enqueue):
    execute(enqueue(integrate(oauth2_server.document(openai_server.url, scope=None))))

    (token_request,) = oauth2_server.token_requests
    assert "scope" not in token_request.form


def test_header_mapping_sends_the_run_ids_and_omits_empty_ones(
    execute, openai_server, integrate, enqueue, org, admin_user
):
    mapping = {"job_id": "X-Job-Id", "user_id": "X-User-Id", "project_id": "X-Project-Id", "run_id": "X-Run-Id"}
    integration = integrate(provider_document(openai_server.url, custom_header_mapping=mapping))
    project = ProjectFactory(organization=org)
    job = job_create(organization=org, user=admin_user, kind="playground", project=project)
    with_job = execute(enqueue(integration, job=job, project=project))
    without_job = execute(enqueue(integration))

    first, second = openai_server.completion_requests
    assert sent_headers(first) == {
        **BASE_HEADERS,
        "x-portkey-api-key": "sk-test-ABC123xyz",
        "x-job-id": str(job.pk),
        "x-user-id": str(admin_user.pk),
        "x-project-id": str(project.pk),
        "x-run-id": str(with_job.pk),
    }
    assert sent_headers(second) == {
        **BASE_HEADERS,
        "x-portkey-api-key": "sk-test-ABC123xyz",
        "x-user-id": str(admin_user.pk),
        "x-run-id": str(without_job.pk),
    }


def test_static_headers_override_mapping_and_auth_case_insensitively(execute, openai_server, integrate, enqueue):
    document = provider_document(
        openai_server.url,
        custom_header_mapping={"run_id": "X-Trace-Id"},
        headers={"X-PORTKEY-API-KEY": "sk-override-777777", "x-trace-id": "fixed-trace", "X-Tenant": "acme-tenant"},
    )
    run = execute(enqueue(integrate(document)))

    (received,) = openai_server.completion_requests
    assert sent_headers(received) == {
        **BASE_HEADERS,
        "x-portkey-api-key": "sk-override-777777",
        "x-trace-id": "fixed-trace",
        "x-tenant": "acme-tenant",
    }
    assert [name for name, _ in received.header_list].count("x-portkey-api-key") == 1
    assert run.request["headers"] == {
        "Content-Type": "application/json",
        "User-Agent": "custom-model-integrations-runner/1.0",
        "Accept": "application/json",
        "X-PORTKEY-API-KEY": "********",
        "x-trace-id": "********",
        "X-Tenant": "********",
    }


def test_only_supported_parameters_are_sent_under_their_wire_names(execute, openai_server, integrate, enqueue):
    integration = integrate(provider_document(openai_server.url, models=["meta-llama/Llama-4-Scout-17B-16E-Instruct"]))
    parameters = {"temperature": 0.2, "stop_sequences": ["\n\n"], "max_tokens": 64, "top_k": 5, "tools": []}
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    run = execute(enqueue(integration, messages=messages, parameters=parameters))

    (received,) = openai_server.completion_requests
    assert received.json == {
        "model": "meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "messages": messages,
        "temperature": 0.2,
        "stop": ["\n\n"],
        "max_tokens": 64,
    }
    assert run.dropped_parameters == ["tools", "top_k"]
    assert run.request["body"] == received.json
    assert run.request["url"] == f"{openai_server.url}/chat/completions"
    assert run.request["method"] == "POST"


def test_parameters_are_filtered_by_the_integration_as_it_is_when_the_run_executes(
    transactional_db, openai_server, integrate, queued_run
):
    run = queued_run(integrate(provider_document(openai_server.url)), parameters={"top_p": 0.5, "max_tokens": 9})
    assert run.dropped_parameters == ["top_p"]
    # The integration is edited while the run waits in the queue: the model now supports top_p.
    document = provider_document(openai_server.url)
    document["model_properties"][0]["supported_parameters"] = ["top_p"]
    integrate(document)

    run_execute(run_id=str(run.pk))

    run.refresh_from_db()
    assert run.status == "succeeded", run.error_message
    assert run.dropped_parameters == ["max_tokens"]
    assert openai_server.completion_requests[0].json == {
        "model": "echo-model",
        "messages": [{"role": "user", "content": "Hello there"}],
        "top_p": 0.5,
    }


def test_a_trailing_slash_on_the_endpoint_is_not_doubled(execute, openai_server, integrate, enqueue):
    execute(enqueue(integrate(provider_document(openai_server.url + "/"))))

    assert openai_server.completion_requests[0].path == "/v1/chat/completions"


def test_a_successful_run_records_output_usage_and_timings(execute, openai_server, integrate, enqueue):
    run = execute(enqueue(integrate(provider_document(openai_server.url)), parameters={"max_tokens": 2}))

    assert run.status == "succeeded"
    assert run.output == "echo: Hello"
    assert run.finish_reason == "length"
    assert run.usage == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    assert run.response["choices"][0]["message"]["content"] == "echo: Hello"
    assert run.attempts == 1 and run.attempt_log[0]["status_code"] == 200
    assert run.latency_ms > 0
    assert run.created_at <= run.started_at <= run.finished_at
    assert run.error_type is None and run.error_message is None


def test_no_secret_is_recorded_on_the_run(execute, openai_server, oauth2_server, integrate, enqueue):
    openai_server.require_oauth2(oauth2_server)
    document = oauth2_server.document(openai_server.url, headers={"X-Static-Secret": "static-secret-value-42"})
    run = execute(enqueue(integrate(document)))

    recorded = json.dumps([run.request, run.response, run.error_message, run.attempt_log])
    access_token = oauth2_server.token_requests[0].access_token
    for secret in (oauth2_server.client_secret, access_token, "static-secret-value-42"):
        assert secret not in recorded
    assert run.request["headers"]["Authorization"] == "********"
    assert run.request["headers"]["X-Static-Secret"] == "********"
