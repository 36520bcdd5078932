"""Reads for runs, used by the pages and the API."""

import uuid
from dataclasses import replace

from django.db.models import Count, QuerySet
from django.db.models.functions import Length, Substr

from integrations.models import Integration
from runners.limits import Usage, usage_of
from runners.live_output import live_output_get
from runners.models import TERMINAL_STATUSES, Run, RunStatus


def run_get(*, organization, run_id) -> Run | None:
    """The organisation's run with this id, or None (unknown, malformed id, or another organisation's)."""
    try:
        run_id = uuid.UUID(str(run_id))
    except ValueError:
        return None
    return Run.objects.filter(organization=organization, pk=run_id).first()


def run_list(
    *,
    organization,
    job=None,
    job_id=None,
    user=None,
    integration=None,
    status: str | None = None,
    limit: int | None = None,
) -> QuerySet[Run]:
    """The organisation's runs, newest first, optionally narrowed to a job, user, integration or status."""
    runs = Run.objects.filter(organization=organization)
    if job is not None:
        runs = runs.filter(job=job)
    if job_id is not None:
        runs = runs.filter(job_id=job_id)
    if user is not None:
        runs = runs.filter(user=user)
    if integration is not None:
        runs = runs.filter(integration=integration)
    if status is not None:
        runs = runs.filter(status=status)
    runs = runs.order_by("-created_at")
    return runs[:limit] if limit is not None else runs


OUTPUT_PREVIEW_LENGTH = 1000


def runs_with_output_preview(runs: QuerySet[Run]) -> QuerySet[Run]:
    """`runs` for a list read: the output is cut to OUTPUT_PREVIEW_LENGTH characters by the database (the whole
    output and the provider's response are not loaded); read it with run_output_preview. The reasoning is cut the
    same way (`reasoning_preview`)."""
    return runs.defer("output", "response", "reasoning").annotate(
        output_preview=Substr("output", 1, OUTPUT_PREVIEW_LENGTH),
        output_length=Length("output"),
        reasoning_preview=Substr("reasoning", 1, OUTPUT_PREVIEW_LENGTH),
    )


def run_output_preview(run: Run) -> tuple[str | None, bool]:
    """(at most OUTPUT_PREVIEW_LENGTH characters of the output so far, whether it was cut) for a run read through
    runs_with_output_preview."""
    if run.status in TERMINAL_STATUSES:
        text, length = run.output_preview, run.output_length or 0
    else:
        text = run_live_output(run)
        length = len(text or "")
    if text is not None and len(text) > OUTPUT_PREVIEW_LENGTH:
        text = text[:OUTPUT_PREVIEW_LENGTH]
    return text, length > OUTPUT_PREVIEW_LENGTH


def run_live_output(run: Run) -> str | None:
    """The output so far: the final output of a finished run, the partial text of a streaming one, else None."""
    if run.status in TERMINAL_STATUSES:
        return run.output
    if run.status == RunStatus.RUNNING:
        return live_output_get(run_id=run.pk)
    return None


def integration_usages(*, organization_id: int) -> dict[int, Usage]:
    """What each of the organisation's integrations uses now, by integration id ({} without Redis): runners.limits's
    figures; for an integration whose runs the limiter does not count in flight (no limit, no 429 ceiling), the runs
    the database has running instead. Two round trips (Redis, and one grouped count over the running runs)."""
    integrations = Integration.objects.filter(organization_id=organization_id).values_list(
        "pk", "max_concurrency", "requests_per_minute"
    )
    limited = {pk: bool(concurrency or rpm) for pk, concurrency, rpm in integrations}
    usages = usage_of(list(limited))
    if not usages:
        return {}
    running = dict(
        Run.objects.filter(organization_id=organization_id, status=RunStatus.RUNNING)
        .order_by()
        .values("integration_id")
        .annotate(count=Count("pk"))
        .values_list("integration_id", "count")
    )
    return {
        pk: usage if limited[pk] or usage.ceiling else replace(usage, in_flight=running.get(pk, 0))
        for pk, usage in usages.items()
    }
