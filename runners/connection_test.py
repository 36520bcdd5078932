"""Settings > Integrations > Test: one small request to each model of an integration, through the runners."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from integrations.models import Integration
from runners.models import Job, Run, RunStatus
from runners.services import RunRequest, runs_start

TEST_PROMPT = "Reply with OK."


def integration_test_start(*, integration: Integration, user) -> Job:
    """A Job(kind="test") with one queued Run per model; workers pick them up once this commits.

    Each run is what a Playground run with default parameters is: streamed, with no parameter nobody chose (a
    token limit picked here would be refused by some models, or spent on reasoning by others, and prove nothing
    about the runs people make). A refusal it meets is negotiated and learned like any run's.
    """
    requests = [
        RunRequest(model=model, messages=[{"role": "user", "content": TEST_PROMPT}], parameters={}, stream=True)
        for model in integration.models.all()
    ]
    job, _ = runs_start(
        organization=integration.organization, user=user, kind=Job.Kind.TEST, integration=integration, requests=requests
    )
    return job


@dataclass(frozen=True)
class TestSummary:
    job: Job
    total: int
    succeeded: int
    failed: int

    @property
    def done(self) -> bool:
        return self.succeeded + self.failed == self.total

    @property
    def state(self) -> str:
        """ "running", "ok" (every model answered) or "failed" (at least one did not)."""
        if not self.done:
            return "running"
        return "ok" if self.failed == 0 else "failed"


def _summary(job: Job, runs: list[Run]) -> TestSummary:
    statuses = [run.status for run in runs]
    return TestSummary(
        job=job,
        total=len(statuses),
        succeeded=statuses.count(RunStatus.SUCCEEDED),
        failed=statuses.count(RunStatus.FAILED),
    )


def integration_test_summaries(*, organization) -> dict[int, TestSummary]:
    """The latest test of each of the organisation's integrations, by integration id."""
    latest = Job.objects.filter(kind=Job.Kind.TEST, integration=OuterRef("pk")).order_by("-created_at").values("pk")[:1]
    job_ids = (
        Integration.objects.filter(organization=organization)
        .annotate(latest_test=Subquery(latest))
        .exclude(latest_test=None)
        .values_list("latest_test", flat=True)
    )
    jobs = Job.objects.filter(pk__in=list(job_ids)).prefetch_related("runs")
    return {job.integration_id: _summary(job, list(job.runs.all())) for job in jobs}


def integration_test_get(*, integration: Integration, job_id) -> tuple[TestSummary, list[Run]] | None:
    """The test `job_id` of this integration with its runs in the document's model order; None if it has none."""
    job = Job.objects.filter(pk=job_id, kind=Job.Kind.TEST, integration=integration).first()
    if job is None:
        return None
    runs = list(job.runs.order_by("created_at"))
    # Order the runs as the models are listed in the document.
    positions = {model.alias: model.position for model in integration.models.all()}
    runs.sort(key=lambda run: positions.get(run.model_alias, len(positions)))
    return _summary(job, runs), runs
