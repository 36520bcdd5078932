"""Reads the API needs beyond integrations.selectors and runners.selectors, always scoped to an organisation."""

import uuid

from django.db.models import QuerySet

from integrations.models import Integration
from runners.models import Job, Run


def integration_get_for_update(*, organization, name: str) -> Integration | None:
    return Integration.objects.select_for_update().filter(organization=organization, name=name).first()


def run_list_filtered(
    *,
    organization,
    status: str | None = None,
    integration: str | None = None,
    model: str | None = None,
    job: uuid.UUID | None = None,
) -> QuerySet[Run]:
    runs = Run.objects.filter(organization=organization)
    if status:
        runs = runs.filter(status=status)
    if integration:
        runs = runs.filter(integration_name=integration)
    if model:
        runs = runs.filter(model_alias=model)
    if job:
        runs = runs.filter(job_id=job)
    return runs.order_by("-created_at")


# Jobs the API may add runs to: its own. Evaluation jobs (their progress and results) and integration tests (their
# verdict) are the product's, and are never written into from outside.
API_WRITABLE_JOB_KINDS = (Job.Kind.API,)


def job_get_scoped(*, organization, job_id: uuid.UUID) -> Job | None:
    return Job.objects.filter(organization=organization, pk=job_id).first()


def job_writable_by(*, job: Job, user) -> bool:
    """Whether `user` may add runs to `job` through the API: an API job that `user` created."""
    return job.kind in API_WRITABLE_JOB_KINDS and job.user_id is not None and job.user_id == user.pk
