"""A worker reuses the integration it read while the integration is unchanged, and sees every change."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.services import integration_delete
from runners.execution import run_execute
from runners.integration_cache import integration_config
from runners.models import Run
from tests.runners.conftest import provider_document


def _execute(run) -> Run:
    run_execute(run_id=str(run.pk))
    return Run.objects.get(pk=run.pk)


def _integration_reads(queries) -> list[str]:
    return [query["sql"] for query in queries if "integrations_" in query["sql"] and "UPDATE" not in query["sql"]]


def test_an_unchanged_integration_is_read_once_per_worker(transactional_db, openai_server, integrate, queued_run):
    integration = integrate(provider_document(openai_server.url))
    runs = [queued_run(integration), queued_run(integration)]
    with CaptureQueriesContext(connection) as first:
        assert _execute(runs[0]).status == "succeeded"
    with CaptureQueriesContext(connection) as second:
        assert _execute(runs[1]).status == "succeeded"

    assert _integration_reads(first.captured_queries)  # read (and decrypted) for the first run
    assert _integration_reads(second.captured_queries) == []  # reused: only the claim and the result write
    assert [request.headers["x-portkey-api-key"] for request in openai_server.completion_requests] == [
        "sk-test-ABC123xyz"
    ] * 2


def test_a_run_after_an_edit_uses_the_edited_integration(transactional_db, openai_server, integrate, queued_run):
    integration = integrate(provider_document(openai_server.url))
    _execute(queued_run(integration, parameters={"max_tokens": 5, "temperature": 0.5}))

    edited = provider_document(openai_server.url, api_key_value="sk-test-EDITED999", headers={"x-team": "blue"})
    edited["model_properties"][0]["supported_parameters"] = ["temperature"]
    integration = integrate(edited)  # same name: integration_upsert replaces the document
    run = _execute(queued_run(integration, parameters={"max_tokens": 5, "temperature": 0.5}))

    first, second = openai_server.completion_requests
    assert (first.headers["x-portkey-api-key"], first.json.get("max_tokens")) == ("sk-test-ABC123xyz", 5)
    assert (second.headers["x-portkey-api-key"], second.headers["x-team"]) == ("sk-test-EDITED999", "blue")
    assert "max_tokens" not in second.json and second.json["temperature"] == 0.5
    assert run.dropped_parameters == ["max_tokens"]


def test_a_model_removed_by_an_edit_fails_the_next_run(transactional_db, openai_server, integrate, queued_run):
    integration = integrate(provider_document(openai_server.url, models=("echo-model", "other-model")))
    _execute(queued_run(integration, model_name="other-model"))
    pending = queued_run(integration, model_name="other-model")

    integrate(provider_document(openai_server.url, models=("echo-model",)))
    run = _execute(pending)

    assert (run.status, run.error_type) == ("failed", "model_missing")
    assert len(openai_server.completion_requests) == 1


def test_a_deleted_integration_fails_its_queued_runs(transactional_db, openai_server, integrate, queued_run, org):
    integration = integrate(provider_document(openai_server.url))
    _execute(queued_run(integration))
    pending = queued_run(integration)

    integration_delete(integration=integration)
    run = _execute(pending)

    assert (run.status, run.error_type) == ("failed", "integration_missing")
    assert len(openai_server.completion_requests) == 1


def test_what_the_worker_keeps_does_not_show_secrets_in_its_repr(db, integrate):
    document = provider_document("https://llm.example.com/v1", headers={"x-static-secret": "hdr-SECRET-42"})
    integration = integrate(document)
    config = integration_config(integration.pk, integration.updated_at)

    assert config.api_key_value == "sk-test-ABC123xyz" and config.static_headers == {"x-static-secret": "hdr-SECRET-42"}
    assert "sk-test-ABC123xyz" not in repr(config) and "hdr-SECRET-42" not in repr(config)
