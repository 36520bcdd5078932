"""Jobs belong to their creator: a run can be attached through the API only to an API job of the caller; evaluation
and integration-test jobs, and other people's jobs, cannot be written into (422 on `job`, nothing added)."""

import pytest

from runners.models import Job, Run
from runners.services import job_create
from tests.api.conftest import client_for
from tests.factories import make_integration


@pytest.fixture
def integration(org, admin_user):
    return make_integration(organization=org, user=admin_user, name="custom")


def start_run(client, integration, job):
    alias = integration.models.first().alias
    body = {"integration": "custom", "model": alias, "messages": [{"role": "user", "content": "hi"}], "job": str(job)}
    return client.post("/api/v2/runs", body, format="json")


@pytest.mark.parametrize("kind", [Job.Kind.EVALUATION, Job.Kind.TEST, Job.Kind.PLAYGROUND])
@pytest.mark.parametrize("owner", ["caller", "colleague"])
def test_a_job_the_api_may_not_write_to_is_refused(org, admin_user, member_user, integration, kind, owner):
    job = job_create(organization=org, user=member_user if owner == "caller" else admin_user, kind=kind)

    answer = start_run(client_for(member_user), integration, job.pk)

    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "job"], "job_not_writable")
    assert not Run.objects.filter(job=job).exists()


def test_an_admin_cannot_write_into_a_members_api_job(org, admin_user, member_user, integration):
    body = {
        "integration": "custom",
        "model": integration.models.first().alias,
        "messages": [{"role": "user", "content": "a"}],
    }
    job_id = client_for(member_user).post("/api/v2/runs", body, format="json").json()["job"]

    assert start_run(client_for(admin_user), integration, job_id).status_code == 422
    assert start_run(client_for(member_user), integration, job_id).status_code == 202
    assert Run.objects.filter(job_id=job_id).count() == 2
