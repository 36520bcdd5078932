"""One representation of a run: the API's run read and list and the Playground's JSON come from run_representation."""

import json
from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer

from api.views.runs import RunListItemSerializer, RunOutputSerializer
from runners.models import Job, RunStatus
from runners.presenters import run_representation
from runners.selectors import runs_with_output_preview
from runners.services import job_create
from tests.runners.conftest import provider_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(admin_user, integrate, queued_run):
    integration = integrate(provider_document("http://127.0.0.1:9/v1"))
    job = job_create(organization=integration.organization, user=admin_user, kind=Job.Kind.PLAYGROUND)
    return queued_run(
        integration,
        parameters={"temperature": 0.5, "top_k": 3},
        job=job,
        status=RunStatus.SUCCEEDED,
        output="é" * 1500,
        usage={"prompt_tokens": 3, "completion_tokens": 4},
        latency_ms=12,
        finish_reason="stop",
        request={"url": "http://127.0.0.1:9/v1/chat/completions", "headers": {"x-key": "********"}},
        attempts=1,
        started_at=datetime(2026, 11, 24, 19, 41, 48, tzinfo=UTC),
        finished_at=datetime(2026, 11, 24, 19, 41, 49, 5, tzinfo=UTC),
    )


def test_the_api_read_is_the_representation_byte_for_byte(finished_run):
    api = JSONRenderer().render(RunOutputSerializer(finished_run).data)
    assert api == JSONRenderer().render(run_representation(finished_run))
    assert list(json.loads(api)) == list(RunOutputSerializer().fields)


def test_the_api_list_entry_is_the_preview_representation(finished_run):
    (listed,) = runs_with_output_preview(type(finished_run).objects.filter(pk=finished_run.pk))
    api = JSONRenderer().render(RunListItemSerializer(listed).data)
    assert api == JSONRenderer().render(run_representation(listed, preview=True))
    assert json.loads(api)["output_truncated"] is True


def test_a_queued_run_has_no_output_and_no_timestamps_yet(admin_user, integrate, queued_run):
    run = queued_run(integrate(provider_document("http://127.0.0.1:9/v1")))
    shown = run_representation(run)
    assert shown["job"] is None and shown["output"] is None and shown["started_at"] is None
    assert JSONRenderer().render(RunOutputSerializer(run).data) == JSONRenderer().render(shown)
