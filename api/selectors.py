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


def job_get_scoped(*, organization, job_id: uuid.UUID) -> Job | None:
    return Job.objects.filter(organization=organization, pk=job_id).first()
