"""Reads for evaluations, always scoped to an organisation: lists, progress (one aggregate query), results."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from evaluations.models import (
    Dataset,
    DatasetRow,
    Evaluation,
    JudgeOutcome,
    Metric,
    MetricKind,
    MetricScore,
    ScoreStatus,
)
from integrations.dependents import Dependent
from integrations.models import ModelProperty
from runners.models import Run, RunStatus

PREVIEW_ROWS = 20
CANCELLED = "cancelled"
COUNTERS = (
    "outputs_succeeded",
    "outputs_failed",
    "outputs_cancelled",
    "judges_created",
    "judges_scored",
    "judges_unusable",
    "judges_run_failed",
    "judges_cancelled",
)
COUNTER_FIELDS = (*COUNTERS, "last_output_at")


def dataset_list(*, organization) -> QuerySet[Dataset]:
    return Dataset.objects.filter(organization=organization).select_related("created_by").order_by("-created_at")


def public_id(value: Any) -> uuid.UUID | None:
    """A public id (a UUID, or its text) as a UUID; None for anything else, sequential numbers included."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def dataset_get(*, organization, dataset_id) -> Dataset | None:
    """The organisation's dataset with this public id (its UUID), or None."""
    public = public_id(dataset_id)
    return dataset_list(organization=organization).filter(uuid=public).first() if public else None


def dataset_preview(*, dataset: Dataset, limit: int = PREVIEW_ROWS) -> list[DatasetRow]:
    return list(dataset.rows.order_by("index")[:limit])


def metric_list(*, organization) -> QuerySet[Metric]:
    """The organisation's metrics at their current versions, by name."""
    return (
        Metric.objects.filter(organization=organization, replaced_at__isnull=True)
        .select_related("created_by")
        .order_by("name")
    )


def metric_get(*, organization, metric_id) -> Metric | None:
    """The organisation's metric version with this public id (its UUID; any version, current or replaced), or None."""
    public = public_id(metric_id)
    if not public:
        return None
    return Metric.objects.filter(organization=organization, uuid=public).select_related("created_by").first()


def metric_current(*, metric: Metric) -> Metric:
    """The current version of the metric's lineage (`metric` itself when it is current)."""
    if metric.replaced_at is None:
        return metric
    return Metric.objects.filter(lineage=metric.lineage, replaced_at__isnull=True).first() or metric


def metric_versions(*, metric: Metric) -> list[Metric]:
    """Every version of the metric's lineage, newest first."""
    return list(
        Metric.objects.filter(organization_id=metric.organization_id, lineage=metric.lineage)
        .select_related("created_by")
        .order_by("-version")
    )


def metric_usage(*, metric: Metric) -> dict[str, Any]:
    """What refers to any version of the metric: {"evaluations": [{"id", "name", "version"}] (newest first),
    "scored_runs": number of runs scored with it outside evaluations (the Playground's)}."""
    versions = Metric.objects.filter(organization_id=metric.organization_id, lineage=metric.lineage)
    evaluations = (
        Evaluation.objects.filter(metrics__in=versions)
        .order_by("-created_at")
        .values_list("pk", "name", "metrics__version")
        .distinct()
    )
    scored_runs = MetricScore.objects.filter(metric__in=versions, result__isnull=True).count()
    return {
        "evaluations": [{"id": str(pk), "name": name, "version": version} for pk, name, version in evaluations],
        "scored_runs": scored_runs,
    }


def metrics_judge_missing(*, organization, metrics) -> set:
    """The public ids of the LLM-judge metrics among `metrics` whose judge model's alias no longer exists (its
    integration was deleted, or the model removed from it)."""
    aliases = set(ModelProperty.objects.filter(organization=organization).values_list("alias", flat=True))
    return {metric.uuid for metric in metrics if not metric.is_code and metric.judge_model not in aliases}


def evaluation_list(*, organization) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(organization=organization)
        .select_related("dataset", "created_by", "counters")
        .prefetch_related("metrics")
        .order_by("-created_at")
    )


def evaluation_get(*, organization, evaluation_id) -> Evaluation | None:
    return evaluation_list(organization=organization).filter(pk=evaluation_id).first()


# Progress


@dataclass(frozen=True)
class Progress:
    total: int
    done: int  # succeeded
    failed: int  # including cancelled
    cancelled: int
    queued: int
    running: int
    rate: float | None  # finished runs per second
    seconds_left: float | None
    judges_total: int  # judge runs expected so far (succeeded outputs x judges per output)
    judges_created: int  # judge runs that exist
    judges_waiting: int  # created and not yet read: queued, running, or finished with their score's others pending
    judges_scored: int  # a usable verdict
    judges_unusable: int  # answered, but no verdict could be read
    judges_run_failed: int
    judges_cancelled: int
    status: str

    @property
    def judges_failed(self) -> int:
        return self.judges_unusable + self.judges_run_failed + self.judges_cancelled

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def percent(self) -> float:
        return 100.0 * self.finished / self.total if self.total else 100.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "queued": self.queued,
            "running": self.running,
            "percent": round(self.percent, 1),
            "rate_per_second": None if self.rate is None else round(self.rate, 3),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
            "judges": {
                "total": self.judges_total,
                "created": self.judges_created,
                "waiting": self.judges_waiting,
                "scored": self.judges_scored,
                "unusable": self.judges_unusable,
                "run_failed": self.judges_run_failed,
                "cancelled": self.judges_cancelled,
            },
        }


def evaluation_progress(*, evaluation: Evaluation) -> Progress:
    """Progress from the evaluation's counters (kept as runs finish, evaluations.services.counters) and one count of
    its running output runs (an index range on runners.Run (job, status), as long as the workers' concurrency):
    the same two small queries at 20 or 20,000 runs. Judge runs are counted by what they came to (JudgeOutcome), so
    an answer that is no verdict never counts as scored. While its runs are being made ("creating") nothing is
    queued yet."""
    fresh = Evaluation.objects.select_related("counters").only(
        "runs_created_at", "cancelled_at", "finished_at", *(f"counters__{name}" for name in COUNTER_FIELDS)
    )
    fresh = fresh.get(pk=evaluation.pk)
    for name in ("runs_created_at", "cancelled_at", "finished_at"):
        setattr(evaluation, name, getattr(fresh, name))
    evaluation.counters = fresh.counters
    running = 0
    if evaluation.runs_created_at and not evaluation.finished_at:
        running = Run.objects.filter(job_id=evaluation.job_id, status=RunStatus.RUNNING).count()
    return _progress(evaluation, running=running)


def evaluations_progress(*, evaluations: list[Evaluation]) -> list[Progress]:
    """Progress of evaluations just read (their counters are fields), with one grouped count of running runs."""
    live = [e.job_id for e in evaluations if e.runs_created_at and not e.finished_at]
    running = (
        dict(
            Run.objects.filter(job_id__in=live, status=RunStatus.RUNNING)
            .order_by()
            .values_list("job_id")
            .annotate(Count("pk"))
        )
        if live
        else {}
    )
    return [_progress(e, running=running.get(e.job_id, 0)) for e in evaluations]


def _progress(evaluation: Evaluation, *, running: int) -> Progress:
    counters = evaluation.counters
    counts = {name: getattr(counters, name) for name in COUNTERS}
    status = evaluation.status
    done, cancelled = counts["outputs_succeeded"], counts["outputs_cancelled"]
    failed = counts["outputs_failed"] + cancelled
    executed = done + counts["outputs_failed"]
    queued = max(evaluation.total_runs - done - failed - running, 0) if evaluation.runs_created_at else 0
    remaining = queued + running
    rate = seconds_left = None
    started = evaluation.runs_created_at  # the runs are handed to the workers as soon as they exist
    if executed and started:
        until = timezone.now() if remaining else (counters.last_output_at or timezone.now())
        elapsed = max((until - started).total_seconds(), 0.001)
        rate = executed / elapsed
        seconds_left = remaining / rate if remaining else 0.0
    judged = {outcome: counts[f"judges_{outcome.value}"] for outcome in JudgeOutcome}
    return Progress(
        total=evaluation.total_runs,
        done=done,
        failed=failed,
        cancelled=cancelled,
        queued=queued,
        running=running,
        rate=rate,
        seconds_left=seconds_left,
        judges_total=done * evaluation.judges_per_output,
        judges_created=counts["judges_created"],
        judges_waiting=max(counts["judges_created"] - sum(judged.values()), 0),
        judges_scored=judged[JudgeOutcome.SCORED],
        judges_unusable=judged[JudgeOutcome.UNUSABLE],
        judges_run_failed=judged[JudgeOutcome.RUN_FAILED],
        judges_cancelled=judged[JudgeOutcome.CANCELLED],
        status=status,
    )


def evaluation_progress_recount(*, evaluation: Evaluation) -> dict[str, int]:
    """The counters as a full recount over every run would give them (for checks and tests, never for polls): each
    output's current run and each judge's current attempt (what a re-run replaced is not counted).

    The judges of a score failed because its judge model was deleted have no run: they count as created and
    run_failed, as many as the metric's judges."""
    outputs = Q(evaluation_result__evaluation=evaluation)
    failed = outputs & Q(status=RunStatus.FAILED)
    judges = Q(job_id=evaluation.judge_job_id) & (Q(judge_run__isnull=True) | Q(judge_run__superseded=False))
    counts = Run.objects.filter(job_id__in=(evaluation.job_id, evaluation.judge_job_id)).aggregate(
        outputs_succeeded=Count("pk", filter=outputs & Q(status=RunStatus.SUCCEEDED)),
        outputs_failed=Count("pk", filter=failed & ~Q(error_type=CANCELLED)),
        outputs_cancelled=Count("pk", filter=failed & Q(error_type=CANCELLED)),
        judges_created=Count("pk", filter=judges),
        **{
            f"judges_{outcome.value}": Count("pk", filter=judges & Q(judge_run__outcome=outcome))
            for outcome in JudgeOutcome
        },
    )
    unrunnable = (
        MetricScore.objects.filter(result__evaluation=evaluation, status=ScoreStatus.FAILED, judge_runs__isnull=True)
        .exclude(metric__kind=MetricKind.CODE)
        .aggregate(judges=Sum("metric__judges"))["judges"]
        or 0
    )
    counts["judges_created"] += unrunnable
    counts[f"judges_{JudgeOutcome.RUN_FAILED.value}"] += unrunnable
    return counts


# Scores of runs judged on their own


def run_scores_get(*, organization, runs: list, metric: Metric | None = None) -> list[MetricScore]:
    """The scores of these runs (ids; invalid ones are ignored), in the order of `runs`, by metric name within a run.

    A read: the workers record scores as judges finish.
    """
    scores = MetricScore.objects.filter(scored_run__organization=organization, scored_run__in=valid_uuids(runs))
    if metric is not None:
        scores = scores.filter(metric=metric)
    position = {str(run_id): index for index, run_id in enumerate(runs)}
    found = scores.select_related("metric").order_by("metric__name")
    return sorted(found, key=lambda score: position.get(str(score.scored_run_id), len(position)))


def valid_uuids(values: list) -> list[uuid.UUID]:
    """The values that are UUIDs (or their text), as UUIDs; the others are left out."""
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return parsed


def metrics_judging_with(organization_id: int, aliases: list[str]) -> list:
    """The current LLM-judge metrics whose judge model is one of `aliases`, as integrations.dependents.Dependent
    (registered in EvaluationsConfig.ready: deleting an integration lists them)."""
    metrics = Metric.objects.filter(
        organization_id=organization_id, replaced_at__isnull=True, judge_model__in=aliases
    ).exclude(kind="code")
    return [
        Dependent(
            kind="metric",
            id=str(metric.uuid),
            name=metric.name,
            detail=f'judge model "{metric.judge_model}"',
            url=reverse("evaluations:metric-edit", kwargs={"metric_id": metric.uuid}),
        )
        for metric in metrics
    ]
