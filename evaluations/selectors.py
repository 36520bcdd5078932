"""Reads for evaluations, always scoped to an organisation: lists, progress (one aggregate query), results."""

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from evaluations.models import (
    Dataset,
    DatasetRow,
    Evaluation,
    EvaluationResult,
    JudgeOutcome,
    Metric,
    MetricScore,
)
from runners.models import Run, RunStatus

PREVIEW_ROWS = 20
CANCELLED = "cancelled"


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
    return Metric.objects.filter(organization=organization).select_related("created_by").order_by("name")


def metric_get(*, organization, metric_id) -> Metric | None:
    """The organisation's metric with this public id (its UUID), or None."""
    public = public_id(metric_id)
    return metric_list(organization=organization).filter(uuid=public).first() if public else None


def evaluation_list(*, organization) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(organization=organization)
        .select_related("dataset", "created_by")
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
    """Counts by status of the evaluation's output runs, and of its judge runs by what they came to (JudgeOutcome,
    so that an answer that is no verdict never counts as scored), in one aggregate query."""
    outputs = Q(job_id=evaluation.job_id)
    judges = Q(job_id=evaluation.judge_job_id)
    failed = Q(status=RunStatus.FAILED)
    counts = (
        Run.objects.filter(job_id__in=(evaluation.job_id, evaluation.judge_job_id))
        .order_by()
        .aggregate(
            queued=Count("pk", filter=outputs & Q(status=RunStatus.QUEUED)),
            running=Count("pk", filter=outputs & Q(status=RunStatus.RUNNING)),
            done=Count("pk", filter=outputs & Q(status=RunStatus.SUCCEEDED)),
            failed=Count("pk", filter=outputs & failed),
            cancelled=Count("pk", filter=outputs & failed & Q(error_type=CANCELLED)),
            first_started=Min("started_at", filter=outputs),
            last_finished=Max("finished_at", filter=outputs & ~Q(error_type=CANCELLED)),
            judges_created=Count("pk", filter=judges),
            **{
                f"judges_{outcome.value}": Count("pk", filter=judges & Q(judge_run__outcome=outcome))
                for outcome in JudgeOutcome
            },
        )
    )
    outcomes = {outcome: counts[f"judges_{outcome.value}"] for outcome in JudgeOutcome}
    executed = counts["done"] + counts["failed"] - counts["cancelled"]
    remaining = counts["queued"] + counts["running"]
    rate = seconds_left = None
    if executed and counts["first_started"]:
        until = timezone.now() if remaining else (counts["last_finished"] or timezone.now())
        elapsed = max((until - counts["first_started"]).total_seconds(), 0.001)
        rate = executed / elapsed
        seconds_left = remaining / rate if remaining else 0.0
    status = evaluation.status
    return Progress(
        total=evaluation.total_runs,
        done=counts["done"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        queued=counts["queued"],
        running=counts["running"],
        rate=rate,
        seconds_left=seconds_left,
        judges_total=counts["done"] * evaluation.judges_per_output,
        judges_created=counts["judges_created"],
        judges_waiting=counts["judges_created"] - sum(outcomes.values()),
        judges_scored=outcomes[JudgeOutcome.SCORED],
        judges_unusable=outcomes[JudgeOutcome.UNUSABLE],
        judges_run_failed=outcomes[JudgeOutcome.RUN_FAILED],
        judges_cancelled=outcomes[JudgeOutcome.CANCELLED],
        status=status,
    )


# Results


@dataclass
class ScoreCell:
    status: str
    mean: float | None
    error: str
    judgements: list[dict]


@dataclass
class Cell:
    model_alias: str
    run_id: str
    status: str
    output: str | None
    error_type: str | None
    error_message: str | None
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    # The model's tool calls in OpenAI's shape (runners.models.Run.tool_calls), or None.
    tool_calls: list[dict] | None = None
    # By the metric's public id.
    scores: dict[uuid.UUID, ScoreCell] = field(default_factory=dict)

    def score(self, metric_id: uuid.UUID) -> ScoreCell | None:
        return self.scores.get(metric_id)


@dataclass
class ResultRow:
    index: int
    values: dict[str, str]
    cells: list[Cell | None]


@dataclass
class ModelSummary:
    alias: str
    runs: int
    succeeded: int
    failed: int
    cancelled: int
    latency_p50: float | None
    latency_p95: float | None
    latencies: list[float]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    # metric's public id -> mean of the scored outputs' means (None when nothing was scored), and those means.
    mean_scores: dict[uuid.UUID, float | None]
    score_values: dict[uuid.UUID, list[float]]
    score_failures: dict[uuid.UUID, int]
    # metric's public id -> {JudgeOutcome value: judge answers that came to it}, over the recorded scores
    judge_outcomes: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)


def judgement_outcome(judgement: dict) -> str:
    """A recorded judgement's JudgeOutcome; judgements recorded before outcomes were stored are read by shape."""
    if "outcome" in judgement:
        return judgement["outcome"]
    if "score" in judgement:
        return JudgeOutcome.SCORED
    error = str(judgement.get("error", ""))
    if error == "cancelled":
        return JudgeOutcome.CANCELLED
    return JudgeOutcome.RUN_FAILED if error.startswith("the judge run failed") else JudgeOutcome.UNUSABLE


@dataclass
class Results:
    evaluation: Evaluation
    models: list[str]
    metrics: list[Metric]
    columns: list[str]
    rows: list[ResultRow]
    summaries: list[ModelSummary]
    sort: str


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (what numpy calls "linear")."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _usage(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) else None


def _cells(evaluation: Evaluation) -> dict[tuple[int, str], Cell]:
    cells: dict[tuple[int, str], Cell] = {}
    by_result: dict[int, Cell] = {}
    rows = EvaluationResult.objects.filter(evaluation=evaluation).values_list(
        "pk",
        "model_alias",
        "row__index",
        "run_id",
        "run__status",
        "run__output",
        "run__error_type",
        "run__error_message",
        "run__latency_ms",
        "run__usage",
        "run__tool_calls",
    )
    for pk, alias, index, run_id, status, output, error_type, error_message, latency, usage, tool_calls in rows:
        cell = Cell(
            model_alias=alias,
            run_id=str(run_id),
            status=status,
            output=output,
            error_type=error_type,
            error_message=error_message,
            latency_ms=latency,
            prompt_tokens=_usage(usage, "prompt_tokens"),
            completion_tokens=_usage(usage, "completion_tokens"),
            total_tokens=_usage(usage, "total_tokens"),
            tool_calls=tool_calls,
        )
        cells[(index, alias)] = cell
        by_result[pk] = cell
    scores = MetricScore.objects.filter(result__evaluation=evaluation).values_list(
        "result_id", "metric__uuid", "status", "mean", "error", "judgements"
    )
    for result_id, metric_id, status, mean, error, judgements in scores:
        by_result[result_id].scores[metric_id] = ScoreCell(status=status, mean=mean, error=error, judgements=judgements)
    return cells


def _summary(alias: str, cells: list[Cell], metrics: list[Metric]) -> ModelSummary:
    latencies = [
        cell.latency_ms for cell in cells if cell.status == RunStatus.SUCCEEDED and cell.latency_ms is not None
    ]
    score_values: dict[uuid.UUID, list[float]] = {}
    score_failures: dict[uuid.UUID, int] = {}
    judge_outcomes: dict[uuid.UUID, dict[str, int]] = {}
    for metric in metrics:
        scored = [cell.scores[metric.uuid] for cell in cells if metric.uuid in cell.scores]
        score_values[metric.uuid] = [score.mean for score in scored if score.mean is not None]
        score_failures[metric.uuid] = sum(1 for score in scored if score.status == "failed")
        outcomes = dict.fromkeys(JudgeOutcome.values, 0)
        for score in scored:
            for judgement in score.judgements:
                outcomes[judgement_outcome(judgement)] += 1
        judge_outcomes[metric.uuid] = outcomes
    return ModelSummary(
        alias=alias,
        runs=len(cells),
        succeeded=sum(1 for cell in cells if cell.status == RunStatus.SUCCEEDED),
        failed=sum(1 for cell in cells if cell.status == RunStatus.FAILED and cell.error_type != CANCELLED),
        cancelled=sum(1 for cell in cells if cell.error_type == CANCELLED),
        latency_p50=percentile(latencies, 0.5),
        latency_p95=percentile(latencies, 0.95),
        latencies=latencies,
        prompt_tokens=sum(cell.prompt_tokens or 0 for cell in cells),
        completion_tokens=sum(cell.completion_tokens or 0 for cell in cells),
        total_tokens=sum(cell.total_tokens or 0 for cell in cells),
        mean_scores={
            metric_id: (sum(values) / len(values) if values else None) for metric_id, values in score_values.items()
        },
        score_values=score_values,
        score_failures=score_failures,
        judge_outcomes=judge_outcomes,
    )


def sort_options(*, models: list[str], metrics: list[Metric]) -> list[tuple[str, str]]:
    """(key, label) of every column the table sorts by; keys are what ?sort= accepts (with "-" for descending)."""
    options = [("row", "Row")]
    for position, alias in enumerate(models):
        options.append((f"latency:{position}", f"{alias}: latency"))
        options.append((f"tokens:{position}", f"{alias}: tokens"))
        for metric in metrics:
            options.append((f"score:{metric.uuid}:{position}", f"{alias}: {metric.name}"))
    return options


def _sort_value(row: ResultRow, key: str) -> float | None:
    kind, _, rest = key.partition(":")
    if kind == "row":
        return row.index
    if kind == "score":
        metric_id, _, position = rest.partition(":")
        cell = row.cells[int(position)]
        score = cell.score(uuid.UUID(metric_id)) if cell else None
        return score.mean if score else None
    cell = row.cells[int(rest)]
    if cell is None:
        return None
    return cell.latency_ms if kind == "latency" else cell.total_tokens


def _sorted(rows: list[ResultRow], sort: str) -> list[ResultRow]:
    """Sorted by one column; rows without a value (failed, not scored) always last."""
    key = sort.removeprefix("-")
    values = [(_sort_value(row, key), row) for row in rows]
    sign = -1 if sort.startswith("-") else 1
    present = sorted((pair for pair in values if pair[0] is not None), key=lambda pair: (sign * pair[0], pair[1].index))
    return [row for _, row in present] + [row for value, row in values if value is None]


def evaluation_results(*, evaluation: Evaluation, sort: str | None = None) -> Results:
    """Rows x models with outputs, scores, tokens and latency; per-model aggregates. Unknown sort keys sort by row."""
    models = evaluation.model_aliases
    metrics = list(evaluation.metrics.order_by("name"))
    cells = _cells(evaluation)
    rows = [
        ResultRow(index=row.index, values=row.values, cells=[cells.get((row.index, alias)) for alias in models])
        for row in evaluation.dataset.rows.order_by("index")
    ]
    valid = {key for key, _ in sort_options(models=models, metrics=metrics)}
    sort = sort if sort and sort.removeprefix("-") in valid else "row"
    summaries = [
        _summary(alias, [row.cells[position] for row in rows if row.cells[position]], metrics)
        for position, alias in enumerate(models)
    ]
    return Results(
        evaluation=evaluation,
        models=models,
        metrics=metrics,
        columns=list(evaluation.dataset.columns),
        rows=_sorted(rows, sort),
        summaries=summaries,
        sort=sort,
    )


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
