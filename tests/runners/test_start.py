"""runs_start: the one way interactive work (Playground, API, connection test) starts: default project, job, runs."""

import pytest

from core.problems import Invalid, Problem
from integrations.models import ModelProperty
from organizations.models import Project
from runners.models import Job, Run, RunStatus
from runners.services import RunRequest, job_create, runs_start
from tests.factories import ProjectFactory
from tests.runners.conftest import provider_document

HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def model(integrate):
    integration = integrate(provider_document("https://provider.example/v1", models=["first", "second"]))
    return ModelProperty.objects.get(integration=integration, name="first")


def test_it_creates_a_job_in_the_default_project_with_one_queued_run_per_request(
    model, org, admin_user, django_capture_on_commit_callbacks
):
    other = ModelProperty.objects.get(integration=model.integration, name="second")
    requests = [
        RunRequest(model=model, messages=HELLO, parameters={"temperature": 0.2}),
        RunRequest(model=other, messages=HELLO, stream=True),
    ]
    with django_capture_on_commit_callbacks() as published:
        job, runs = runs_start(organization=org, user=admin_user, kind=Job.Kind.PLAYGROUND, requests=requests)

    assert (job.kind, job.project, job.user) == (Job.Kind.PLAYGROUND, Project.objects.get(organization=org), admin_user)
    assert [(run.model_name, run.parameters, run.stream) for run in runs] == [
        ("first", {"temperature": 0.2}, False),
        ("second", {}, True),
    ]
    assert {run.status for run in Run.objects.filter(job=job)} == {RunStatus.QUEUED}
    assert all(run.project == job.project for run in runs)
    assert len(published) == 2  # each run's id goes to a worker once the transaction commits


def test_a_given_job_gets_the_runs_in_its_own_project(model, org, admin_user):
    project = ProjectFactory(organization=org)
    job = job_create(organization=org, user=admin_user, kind=Job.Kind.API, project=project)

    started, (run,) = runs_start(
        organization=org,
        user=admin_user,
        kind=Job.Kind.API,
        job=job,
        requests=[RunRequest(model=model, messages=HELLO)],
    )

    assert started == job and run.job == job and run.project == project
    assert Job.objects.count() == 1


def test_it_writes_nothing_and_lists_every_problem_when_one_request_is_invalid(model, org, admin_user):
    requests = [
        RunRequest(model=model, messages=HELLO, loc=("columns", 0)),
        RunRequest(model=model, messages=HELLO, parameters={"temperature": "hot"}, loc=("columns", 1)),
        RunRequest(model=model, messages=[], loc=("columns", 2)),
        RunRequest(model=model, messages=[], loc=("columns", 3)),
    ]
    earlier = Problem(("columns", 4, "model"), "Pick a model.", "unknown_model")

    with pytest.raises(Invalid) as raised:
        runs_start(organization=org, user=admin_user, kind=Job.Kind.PLAYGROUND, requests=requests, problems=[earlier])

    locations = [error.loc for error in raised.value.errors]
    assert locations == [("columns", 4, "model"), ("columns", 1, "parameters", "temperature"), ("messages",)]
    assert not Job.objects.exists() and not Run.objects.exists() and not Project.objects.exists()
