"""The malformed documents and run requests of strategies.py, sent through the HTTP API: each answers 422 with a
`loc` path for every error, nothing is written, never a 500 (500 examples per endpoint, derandomized)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from integrations.models import Integration, ModelProperty
from runners.models import Run
from tests.api.conftest import client_for
from tests.factories import make_integration
from tests.hardening.strategies import TOP_LEVEL_KEYS, malformed_documents, malformed_run_requests

FUZZ = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


def assert_422_with_paths(answer) -> list:
    assert answer.status_code == 422, (answer.status_code, answer.content[:500])
    errors = answer.json()["detail"]
    assert errors
    for error in errors:
        assert error["loc"][0] == "body" and error["msg"] and error["type"]
    return errors


@pytest.mark.slow
@FUZZ
@given(document=malformed_documents())
def test_malformed_documents_put_through_the_api_get_422_and_write_nothing(api, document):
    content = json.dumps(document)
    answer = api.put("/api/v2/integrations/custom/fuzzed", content, content_type="application/json")

    for error in assert_422_with_paths(answer):
        assert len(error["loc"]) == 1 or error["loc"][1] in TOP_LEVEL_KEYS or error["loc"][1] in document
    assert not Integration.objects.exists() and not ModelProperty.objects.exists()


@pytest.mark.slow
@FUZZ
@given(request=malformed_run_requests())
def test_malformed_run_requests_posted_to_the_api_get_422_and_enqueue_nothing(api, org, request):
    if not Integration.objects.exists():
        make_integration(organization=org)
    messages, parameters = request
    body = {"integration": "custom", "model": "GPT 5.2", "messages": messages, "parameters": parameters}
    # Sent as Python writes it: an infinite float becomes the non-JSON token Infinity, which the API refuses too.
    content = json.dumps(body)
    answer = api.post("/api/v2/runs", content, content_type="application/json")

    for error in assert_422_with_paths(answer):
        assert error["loc"][1:2] in (["messages"], ["parameters"]) or (
            "Infinity" in content and error["loc"] == ["body"]
        )
    assert not Run.objects.exists()
