"""runs_enqueue_bulk: many runs in one job, built like run_enqueue's, published on commit (or later), executed once."""

import pytest
from django.db import transaction

from core.problems import Invalid
from integrations.models import ModelProperty
from runners.models import Job, Run
from runners.services import RunSpec, job_create, runs_enqueue_bulk, runs_publish_queued
from tests.fixtures.worker import wait_for_run
from tests.runners.conftest import provider_document


def specs(model, count, **parameters):
    return [
        RunSpec(model=model, messages=[{"role": "user", "content": f"n{n}"}], parameters=parameters)
        for n in range(count)
    ]


def test_bulk_runs_are_built_like_single_ones_and_each_executed_once(
    celery_worker, openai_server, integrate, org, admin_user
):
    model = ModelProperty.objects.get(integration=integrate(provider_document(openai_server.url)))
    job = job_create(organization=org, user=admin_user, kind=Job.Kind.EVALUATION)
    with transaction.atomic():
        runs = runs_enqueue_bulk(specs=specs(model, 5, temperature=0, top_k=3), user=admin_user, job=job)
    assert [run.messages[0]["content"] for run in runs] == ["n0", "n1", "n2", "n3", "n4"]
    finished = [wait_for_run(run.pk) for run in runs]
    assert {run.status for run in finished} == {"succeeded"}
    assert all(run.dropped_parameters == ["top_k"] and run.job_id == job.pk for run in finished)
    assert sorted(request.json["messages"][0]["content"] for request in openai_server.completion_requests) == [
        "n0",
        "n1",
        "n2",
        "n3",
        "n4",
    ]


def test_unpublished_runs_wait_for_runs_publish_queued(celery_worker, openai_server, integrate, org, admin_user):
    model = ModelProperty.objects.get(integration=integrate(provider_document(openai_server.url)))
    job = job_create(organization=org, user=admin_user, kind=Job.Kind.EVALUATION)
    with transaction.atomic():
        runs = runs_enqueue_bulk(specs=specs(model, 3), user=admin_user, job=job, publish=False)
    assert Run.objects.filter(job=job, status="queued").count() == 3
    assert runs_publish_queued(job=job) == 3
    assert {wait_for_run(run.pk).status for run in runs} == {"succeeded"}
    assert runs_publish_queued(job=job) == 0
    assert len(openai_server.completion_requests) == 3


def test_an_invalid_spec_creates_nothing(db, openai_server, integrate, org, admin_user):
    model = ModelProperty.objects.get(integration=integrate(provider_document(openai_server.url)))
    job = job_create(organization=org, user=admin_user, kind=Job.Kind.EVALUATION)
    bad = RunSpec(model=model, messages=[{"role": "nobody", "content": "x"}], parameters={})
    with pytest.raises(Invalid), transaction.atomic():
        runs_enqueue_bulk(specs=[*specs(model, 2), bad], user=admin_user, job=job)
    assert not Run.objects.filter(job=job).exists()
