"""No 500 for bad input on the HTML paths, bounded nesting at the API, a delete racing a run, and a validator that
reports every problem at once.

- The integration editor and the admin's add form answer what the API refuses (NUL characters, lone surrogates,
  over-long handler file names) with the same clear error next to the JSON, writing nothing.
- Messages nest at most MAX_MESSAGE_DEPTH levels: deeper ones are a 422 on the message, not a stored run.
- An integration deleted between a run request's lookup and its INSERT answers 422 (or 404), never 500.
- A missing or misspelt key no longer hides the rule errors of the rest of the document.
"""

import json

import pytest
from django.test import Client

import api.views.runs
from core.problems import Invalid
from integrations.document import parse_document
from integrations.models import Integration
from integrations.services import integration_delete
from runners.models import Run
from runners.services import MAX_MESSAGE_DEPTH
from tests.api.conftest import client_for
from tests.factories import make_integration
from tests.runners.conftest import provider_document

UNSTORABLE = "Must not contain NUL characters or unpaired surrogates."


def document_text(case: str) -> tuple[str, str]:
    """(the document as pasted, the message expected next to it)."""
    document = provider_document("https://api.example.com/v1")
    if case == "nul":
        document["model_properties"][0]["alias"] = "echo\x00model"
        return json.dumps(document), UNSTORABLE
    if case == "surrogate":  # only JSON can carry a lone surrogate: as an escape
        return json.dumps(document).replace("echo-model", "echo\\ud800model"), UNSTORABLE
    if case == "nul_key":
        document["headers"] = {"X-A\x00": "b"}
        return json.dumps(document), "Property names: Must not contain NUL"
    document["custom_llm_config"] = {"file_name": "h" * 300 + ".py", "class_name": "Handler"}
    return json.dumps(document), "File names are at most 255 characters."


CASES = ["nul", "surrogate", "nul_key", "long_handler_name"]


@pytest.fixture
def browser(admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("case", CASES)
def test_the_editor_answers_unstorable_input_with_a_clear_error(browser, settings, case):
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    text, expected = document_text(case)
    answer = browser.post("/settings/integrations/custom/new", {"name": "bad", "document": text})

    assert answer.status_code == 422
    assert expected in answer.content.decode()
    assert not Integration.objects.exists()


@pytest.mark.parametrize("case", CASES)
def test_the_admin_add_form_answers_unstorable_input_with_a_clear_error(browser, org, settings, case):
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    text, expected = document_text(case)
    answer = browser.post(
        "/admin/integrations/integration/add/", {"organization": org.pk, "name": "bad", "document": text}
    )

    assert answer.status_code == 200  # the form again, with its errors
    assert expected in answer.content.decode()
    assert not Integration.objects.exists()


@pytest.mark.parametrize("case", CASES)
def test_the_api_gives_the_same_answer(admin_user, settings, case):
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    text, expected = document_text(case)
    answer = client_for(admin_user).put("/api/v2/integrations/custom/bad", text, content_type="application/json")

    assert answer.status_code == 422
    assert any(expected in problem["msg"] for problem in answer.json()["detail"]), answer.json()


@pytest.fixture
def integration(org, admin_user):
    return make_integration(organization=org, user=admin_user, name="custom")


def run_request(integration, content) -> dict:
    alias = integration.models.first().alias
    return {"integration": "custom", "model": alias, "messages": [{"role": "user", "content": content}]}


def nested(depth: int):
    value = "deep"
    for _ in range(depth):
        value = [value]
    return value


def test_message_nesting_is_bounded_at_the_api(admin_user, integration):
    api = client_for(admin_user)
    # A message object holds content (a list) holding a part (an object): 3 levels before the nested value.
    fits = [{"type": "text", "text": "hi", "extra": nested(MAX_MESSAGE_DEPTH - 3)}]
    too_deep = [{"type": "text", "text": "hi", "extra": nested(MAX_MESSAGE_DEPTH - 2)}]

    assert api.post("/api/v2/runs", run_request(integration, fits), format="json").status_code == 202
    refused = api.post("/api/v2/runs", run_request(integration, too_deep), format="json")
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "messages", 0], "too_deep")
    assert Run.objects.count() == 1


def test_an_integration_deleted_while_a_run_is_created_answers_422(
    transactional_db, admin_user, integration, monkeypatch
):
    resolve = api.views.runs._resolve_references

    def resolve_then_delete(*args, **kwargs):
        found = resolve(*args, **kwargs)
        integration_delete(integration=Integration.objects.get(pk=integration.pk))  # another request, meanwhile
        return found

    monkeypatch.setattr(api.views.runs, "_resolve_references", resolve_then_delete)
    api_client = client_for(admin_user)
    api_client.raise_request_exception = False
    answer = api_client.post("/api/v2/runs", run_request(integration, "hi"), format="json")

    assert answer.status_code in (404, 422), answer.content
    assert answer.json()["detail"][0]["loc"] == ["body", "integration"]
    assert not Run.objects.exists()


def test_a_misspelt_key_does_not_hide_the_rule_errors():
    document = {
        "authentication_type": "none",
        "model_properties": [
            {"name": "m", "based_on": "gpt-9"},
            {"name": "n", "supported_parameters": ["temprature"], "alais": "N"},
        ],
        "endpoint": "ftp://x.example/v1",
        "headers": {"Bad Header": "v"},
        "api_kye": "x",
    }
    with pytest.raises(Invalid) as caught:
        parse_document(document)

    found = {(error.path, error.type) for error in caught.value.errors}
    assert ("api_kye", "extra_forbidden") in found
    assert ("model_properties[1].alais", "extra_forbidden") in found
    assert ("model_properties[0].based_on", "unknown_builtin_model") in found
    assert {path for path, _ in found} >= {
        "endpoint",
        "headers.Bad Header",
        "model_properties[1].supported_parameters[0]",
    }


def test_a_missing_key_does_not_hide_the_rule_errors():
    document = {"authentication_type": "api_key", "model_properties": [{"name": "m", "based_on": "gpt-9"}]}
    with pytest.raises(Invalid) as caught:
        parse_document(document)

    found = {(error.path, error.type) for error in caught.value.errors}
    assert ("endpoint", "missing") in found
    assert ("model_properties[0].based_on", "unknown_builtin_model") in found
    assert {"api_key_header", "api_key_value"} <= {path for path, _ in found}


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_the_playground_answers_unstorable_messages_with_a_clear_error(browser, integration, text):
    alias = integration.models.first().alias
    body = {"messages": [{"role": "user", "content": text}], "columns": [{"model": alias, "parameters": {}}]}
    raw = json.dumps(body)  # ASCII-escaped, as a browser's JSON.stringify sends a lone surrogate
    answer = browser.post("/playground/runs", raw, content_type="application/json")

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == UNSTORABLE
    assert answer.json()["detail"][0]["loc"][-1] == "content"
    assert not Run.objects.exists()
