"""An evaluation's results, read so that the cost follows what is shown, not the evaluation's size.

- A page of rows (evaluation_results): the rows are sorted and sliced by the database, then the outputs and scores
  of that page's rows only are read (two queries).
- Per-model summaries (results_summaries): counts, token sums, latency percentiles, score means and histogram bins
  are aggregates in the database, a fixed number of queries whatever the number of rows; kept in the cache until
  the evaluation's counters move, and while it runs computed again by a worker, off the request path
  (results_summaries_cached). Percentiles are
  PostgreSQL's percentile_cont (linear interpolation, as numpy's "linear"); SQLite has no such aggregate, so there
  each percentile reads the one or two values around its rank with ORDER BY ... LIMIT 2 OFFSET k (two small queries
  per model, the same interpolation).
- Every row for the CSV (results_stream): one query read in chunks (a server-side cursor on PostgreSQL), the scores
  of each metric joined as subqueries, so that nothing is held in memory but a chunk.
"""

import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from evaluations.charts import SCORE_BINS, Bin, auto_high, bin_edges
from evaluations.models import (
    DatasetRow,
    Evaluation,
    EvaluationCounters,
    EvaluationResult,
    JudgeOutcome,
    JudgeRun,
    Metric,
    MetricScore,
)
from runners.models import RunStatus
from runners.presenters import run_representation, timestamp

CANCELLED = "cancelled"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
LATENCY_BIN_COUNT = 10
STREAM_CHUNK = 500
SUMMARY_CACHE_SECONDS = 24 * 3600
COUNTER_NAMES = (
    "outputs_succeeded",
    "outputs_failed",
    "outputs_cancelled",
    "judges_created",
    "judges_scored",
    "judges_unusable",
    "judges_run_failed",
    "judges_cancelled",
)


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
    # Which attempt the run is (1, or more after failed outputs were re-run: evaluations.services.rerun).
    attempt: int = 1
    # By the metric's public id.
    scores: dict[uuid.UUID, ScoreCell] = field(default_factory=dict)

    def score(self, metric_id: uuid.UUID) -> ScoreCell | None:
        return self.scores.get(metric_id)


@dataclass
class ResultRow:
    index: int
    values: dict[str, Any]
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
    latency_bins: list[Bin]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    # metric's public id -> mean of the scored outputs' means (None when nothing was scored), how many were scored,
    # how many failed, and the histogram of their means
    mean_scores: dict[uuid.UUID, float | None]
    scored: dict[uuid.UUID, int]
    score_failures: dict[uuid.UUID, int]
    score_bins: dict[uuid.UUID, list[Bin]]
    # metric's public id -> {JudgeOutcome value: judge answers that came to it}, over the recorded scores
    judge_outcomes: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)


@dataclass
class Results:
    evaluation: Evaluation
    models: list[str]
    metrics: list[Metric]
    columns: list[str]
    rows: list[ResultRow]  # the page's rows only
    summaries: list[ModelSummary]
    sort: str
    page: Page


def sort_options(*, models: list[str], metrics: list[Metric]) -> list[tuple[str, str]]:
    """(key, label) of every column the table sorts by; keys are what ?sort= accepts (with "-" for descending)."""
    options = [("row", "Row")]
    for position, alias in enumerate(models):
        options.append((f"latency:{position}", f"{alias}: latency"))
        options.append((f"tokens:{position}", f"{alias}: tokens"))
        for metric in metrics:
            options.append((f"score:{metric.uuid}:{position}", f"{alias}: {metric.name}"))
    return options


class UsageNumber(Func):
    """A number in a run's `usage` JSON (e.g. "total_tokens"), NULL when it is missing or not a number."""

    output_field = FloatField()

    def __init__(self, key: str, prefix: str = "run__"):
        self.key = key
        super().__init__(F(f"{prefix}usage"))

    def as_sql(self, compiler, connection, **extra_context):
        usage, params = compiler.compile(self.source_expressions[0])
        sql = f"CASE WHEN json_type({usage}, %s) IN ('integer', 'real') THEN json_extract({usage}, %s) END"
        return sql, (*params, f"$.{self.key}", *params, f"$.{self.key}")

    def as_postgresql(self, compiler, connection, **extra_context):
        usage, params = compiler.compile(self.source_expressions[0])
        sql = f"CASE WHEN jsonb_typeof({usage} -> %s) = 'number' THEN ({usage} ->> %s)::double precision END"
        return sql, (*params, self.key, *params, self.key)


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _row_sort_expression(evaluation: Evaluation, key: str, models: list[str], row: Any = None) -> Expression | None:
    """The value a row sorts by (a subquery on the row given as `row`, by default the outer query's pk); None for
    the row number itself."""
    row = OuterRef("pk") if row is None else row
    kind, _, rest = key.partition(":")
    if kind == "row":
        return None
    if kind == "score":
        metric_id, _, position = rest.partition(":")
        scores = MetricScore.objects.filter(
            result__evaluation=evaluation,
            result__row=row,
            result__model_alias=models[int(position)],
            metric__uuid=metric_id,
        )
        return Subquery(scores.values("mean")[:1], output_field=FloatField())
    results = EvaluationResult.objects.filter(evaluation=evaluation, row=row, model_alias=models[int(rest)])
    if kind == "latency":
        return Subquery(results.values("run__latency_ms")[:1], output_field=FloatField())
    return Subquery(results.annotate(tokens=UsageNumber("total_tokens")).values("tokens")[:1])


def result_rows(*, evaluation: Evaluation, sort: str, models: list[str]) -> QuerySet[DatasetRow]:
    """The evaluation's dataset rows in the sort's order (rows without a value last, then by row number)."""
    rows = DatasetRow.objects.filter(dataset_id=evaluation.dataset_id)
    expression = _row_sort_expression(evaluation, sort.removeprefix("-"), models)
    if expression is None:
        return rows.order_by("-index" if sort.startswith("-") else "index")
    rows = rows.annotate(sort_value=expression)
    value = F("sort_value")
    ordering = value.desc(nulls_last=True) if sort.startswith("-") else value.asc(nulls_last=True)
    return rows.order_by(ordering, "index")


def _usage(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) else None


CELL_FIELDS = (
    "pk",
    "model_alias",
    "row_id",
    "run_id",
    "run__status",
    "run__output",
    "run__error_type",
    "run__error_message",
    "run__latency_ms",
    "run__usage",
    "run__tool_calls",
    "attempt",
)


def _cell(values: tuple) -> Cell:
    _, alias, _, run_id, status, output, error_type, error_message, latency, usage, tool_calls, attempt = values[
        : len(CELL_FIELDS)
    ]
    return Cell(
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
        attempt=attempt,
    )


def _page_cells(evaluation: Evaluation, row_ids: list[int]) -> dict[tuple[int, str], Cell]:
    """The outputs and scores of these rows only: two queries."""
    cells: dict[tuple[int, str], Cell] = {}
    by_result: dict[int, Cell] = {}
    for values in EvaluationResult.objects.filter(evaluation=evaluation, row_id__in=row_ids).values_list(*CELL_FIELDS):
        cell = _cell(values)
        cells[(values[2], cell.model_alias)] = cell
        by_result[values[0]] = cell
    scores = MetricScore.objects.filter(result_id__in=list(by_result)).values_list(
        "result_id", "metric__uuid", "status", "mean", "error", "judgements"
    )
    for result_id, metric_id, status, mean, error, judgements in scores:
        by_result[result_id].scores[metric_id] = ScoreCell(status=status, mean=mean, error=error, judgements=judgements)
    return cells


def evaluation_results(
    *, evaluation: Evaluation, sort: str | None = None, page: Any = 1, page_size: Any = PAGE_SIZE
) -> Results:
    """One page of rows x models (outputs, scores, tokens, latency), sorted by the database, and the per-model
    summaries. Unknown sort keys sort by row; a page past the last is the last (Paginator.get_page); page_size is
    clamped to 1..MAX_PAGE_SIZE."""
    models = evaluation.model_aliases
    metrics = list(evaluation.metrics.order_by("name"))
    valid = {key for key, _ in sort_options(models=models, metrics=metrics)}
    sort = sort if sort and sort.removeprefix("-") in valid else "row"
    try:
        size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    except (TypeError, ValueError):
        size = PAGE_SIZE
    rows = result_rows(evaluation=evaluation, sort=sort, models=models).only("pk", "index", "values")
    shown = Paginator(rows, size).get_page(page)
    page_rows = list(shown.object_list)
    cells = _page_cells(evaluation, [row.pk for row in page_rows])
    return Results(
        evaluation=evaluation,
        models=models,
        metrics=metrics,
        columns=list(evaluation.dataset.columns),
        rows=[
            ResultRow(index=row.index, values=row.values, cells=[cells.get((row.pk, alias)) for alias in models])
            for row in page_rows
        ],
        summaries=results_summaries_cached(evaluation=evaluation, models=models, metrics=metrics),
        sort=sort,
        page=shown,
    )


# Summaries


def _summary_state(evaluation: Evaluation, models: list[str], metrics: list[Metric]) -> tuple:
    counters = EvaluationCounters.objects.filter(pk=evaluation.pk).values_list(*COUNTER_NAMES).first()
    return (counters, evaluation.finished_at, tuple(models), tuple(metric.pk for metric in metrics))


def _summary_key(evaluation_id: Any) -> str:
    return f"evaluations:summaries:{evaluation_id}"


def results_summaries_cached(*, evaluation: Evaluation, models: list[str], metrics: list[Metric]) -> list[ModelSummary]:
    """results_summaries, kept in Django's cache (Redis in production) and computed again only when the
    evaluation's counters have moved (an output or a score was counted).

    The aggregates read every output (linear in the evaluation's size: ~140 ms at 20,000 runs on PostgreSQL), so a
    running evaluation's read never waits for them: the summary in the cache is answered, at most
    EVALUATIONS_SUMMARY_MAX_AGE seconds behind its counters, and once older than that a worker computes the next one
    (evaluations.tasks.refresh_results_summary, one at a time per evaluation). The request computes it itself only
    when there is none in the cache, when the models or metrics differ, when the evaluation has finished since
    (its final summary, once), or when EVALUATIONS_SUMMARY_MAX_AGE is 0 (every read sees what is counted).
    """
    state = _summary_state(evaluation, models, metrics)
    key = _summary_key(evaluation.pk)
    cached = cache.get(key)
    now = time.time()
    max_age = settings.EVALUATIONS_SUMMARY_MAX_AGE
    if cached is not None:
        cached_state, computed_at, summaries = cached
        if cached_state == state:
            return summaries
        running = evaluation.finished_at is None and cached_state[1:] == state[1:]
        if running and max_age > 0:
            if now - computed_at >= max_age:
                _schedule_summary_refresh(evaluation.pk, max_age)
            return summaries
    summaries = results_summaries(evaluation=evaluation, models=models, metrics=metrics)
    cache.set(key, (state, now, summaries), timeout=SUMMARY_CACHE_SECONDS)
    return summaries


def _schedule_summary_refresh(evaluation_id: Any, max_age: float) -> None:
    """Ask a worker for the next summary, unless one was asked for within max_age (cache.add is atomic)."""
    if not cache.add(f"{_summary_key(evaluation_id)}:refresh", 1, timeout=max(int(max_age), 1)):
        return
    from evaluations.tasks import refresh_results_summary

    refresh_results_summary.delay(str(evaluation_id))


def results_summaries_refresh(*, evaluation_id: Any) -> bool:
    """Compute an evaluation's summary and put it in the cache (the worker's side of results_summaries_cached).
    False if there is no such evaluation."""
    evaluation = Evaluation.objects.filter(pk=evaluation_id).first()
    if evaluation is None:
        return False
    models = evaluation.model_aliases
    metrics = list(evaluation.metrics.order_by("name"))
    state = _summary_state(evaluation, models, metrics)  # read first: what the aggregates cover at least
    summaries = results_summaries(evaluation=evaluation, models=models, metrics=metrics)
    cache.set(_summary_key(evaluation.pk), (state, time.time(), summaries), timeout=SUMMARY_CACHE_SECONDS)
    return True


def _bins_counts(expression: str, edges: list[tuple[float, float]], extra: Q) -> dict[str, Count]:
    """Conditional counts of the values in each bin; values below the first or above the last fall in the edge bins
    (as a histogram of a clamped value)."""
    last = len(edges) - 1
    counts = {}
    for i, (low, high) in enumerate(edges):
        condition = extra & Q(**{f"{expression}__isnull": False})
        if i:
            condition &= Q(**{f"{expression}__gte": low})
        if i < last:
            condition &= Q(**{f"{expression}__lt": high})
        counts[f"bin_{i}"] = Count("pk", filter=condition)
    return counts


def _bins(row: dict, edges: list[tuple[float, float]]) -> list[Bin]:
    return [Bin(low, high, row.get(f"bin_{i}", 0)) for i, (low, high) in enumerate(edges)]


def _percentiles_sqlite(latencies: QuerySet, count: int, fraction: float) -> float | None:
    """The linearly interpolated percentile from the one or two values around its rank (ORDER BY ... LIMIT 2)."""
    if not count:
        return None
    position = (count - 1) * fraction
    low = math.floor(position)
    pair = list(latencies.order_by("run__latency_ms").values_list("run__latency_ms", flat=True)[low : low + 2])
    if len(pair) == 1 or position == low:
        return pair[0]
    return pair[0] + (pair[1] - pair[0]) * (position - low)


def results_summaries(*, evaluation: Evaluation, models: list[str], metrics: list[Metric]) -> list[ModelSummary]:
    """Per model, in column order: run counts, token sums, latency p50/p95 and histogram, and per metric the mean
    score, scored and failed counts, the score histogram and the judges' outcomes. Aggregated by the database."""
    results = EvaluationResult.objects.filter(evaluation=evaluation).order_by()
    succeeded = Q(run__status=RunStatus.SUCCEEDED)
    latency = succeeded & Q(run__latency_ms__isnull=False)
    postgres = connection.vendor == "postgresql"
    percentiles = (
        {
            "latency_p50": PercentileCont("run__latency_ms", 0.5, filter=latency),
            "latency_p95": PercentileCont("run__latency_ms", 0.95, filter=latency),
        }
        if postgres
        else {}
    )
    per_model = {
        row["model_alias"]: row
        for row in results.values("model_alias").annotate(
            runs=Count("pk"),
            succeeded=Count("pk", filter=succeeded),
            failed=Count("pk", filter=Q(run__status=RunStatus.FAILED) & ~Q(run__error_type=CANCELLED)),
            cancelled=Count("pk", filter=Q(run__error_type=CANCELLED)),
            latencies=Count("pk", filter=latency),
            latency_max=Max("run__latency_ms", filter=latency),
            prompt_tokens=Sum(UsageNumber("prompt_tokens")),
            completion_tokens=Sum(UsageNumber("completion_tokens")),
            total_tokens=Sum(UsageNumber("total_tokens")),
            **percentiles,
        )
    }
    # One query per model for its latency histogram: each model's bins end at a round number above its slowest run.
    latency_edges, latency_counts = {}, {}
    for alias in models:
        largest = per_model.get(alias, {}).get("latency_max")
        latency_edges[alias] = bin_edges(low=0, high=auto_high(largest, count=LATENCY_BIN_COUNT), count=10)
        if largest is not None:
            latency_counts[alias] = results.filter(model_alias=alias).aggregate(
                **_bins_counts("run__latency_ms", latency_edges[alias], latency)
            )
        if not postgres and alias in per_model:
            for name, fraction in (("latency_p50", 0.5), ("latency_p95", 0.95)):
                per_model[alias][name] = _percentiles_sqlite(
                    results.filter(latency, model_alias=alias), per_model[alias]["latencies"], fraction
                )
    scores = {
        (row["result__model_alias"], row["metric__uuid"]): row
        for row in MetricScore.objects.filter(result__evaluation=evaluation)
        .order_by()
        .values("result__model_alias", "metric__uuid")
        .annotate(
            mean_of_means=Avg("mean"),
            scored=Count("mean"),
            failed=Count("pk", filter=Q(status="failed")),
            **_bins_counts("mean", SCORE_BINS, Q()),
        )
    }
    outcomes: dict[tuple[str, uuid.UUID], dict[str, int]] = {}
    for alias, metric_id, outcome, n in (
        JudgeRun.objects.filter(score__result__evaluation=evaluation, outcome__isnull=False, superseded=False)
        .order_by()
        .values_list("score__result__model_alias", "score__metric__uuid", "outcome")
        .annotate(n=Count("pk"))
    ):
        outcomes.setdefault((alias, metric_id), dict.fromkeys(JudgeOutcome.values, 0))[outcome] = n
    summaries = []
    for alias in models:
        row = per_model.get(alias, {})
        metric_rows = {metric.uuid: scores.get((alias, metric.uuid), {}) for metric in metrics}
        summaries.append(
            ModelSummary(
                alias=alias,
                runs=row.get("runs", 0),
                succeeded=row.get("succeeded", 0),
                failed=row.get("failed", 0),
                cancelled=row.get("cancelled", 0),
                latency_p50=row.get("latency_p50"),
                latency_p95=row.get("latency_p95"),
                latency_bins=_bins(latency_counts.get(alias, {}), latency_edges[alias]),
                prompt_tokens=int(row.get("prompt_tokens") or 0),
                completion_tokens=int(row.get("completion_tokens") or 0),
                total_tokens=int(row.get("total_tokens") or 0),
                mean_scores={metric_id: values.get("mean_of_means") for metric_id, values in metric_rows.items()},
                scored={metric_id: values.get("scored", 0) for metric_id, values in metric_rows.items()},
                score_failures={metric_id: values.get("failed", 0) for metric_id, values in metric_rows.items()},
                score_bins={metric_id: _bins(values, SCORE_BINS) for metric_id, values in metric_rows.items()},
                judge_outcomes={
                    metric.uuid: outcomes.get((alias, metric.uuid), dict.fromkeys(JudgeOutcome.values, 0))
                    for metric in metrics
                },
            )
        )
    return summaries


# Every row, streamed


@dataclass
class StreamedResults:
    evaluation: Evaluation
    models: list[str]
    metrics: list[Metric]
    columns: list[str]
    sort: str
    # (row index, row values, cell) in the sort's order, models in column order within a row
    lines: Iterator[tuple[int, dict, Cell]]


def results_stream(*, evaluation: Evaluation, sort: str | None = None) -> StreamedResults:
    """Every output of the evaluation, one query read STREAM_CHUNK rows at a time (QuerySet.iterator).

    Each metric's score (mean, judgements, error) is joined as a subquery, so a chunk needs no further query.
    """
    models = evaluation.model_aliases
    metrics = list(evaluation.metrics.order_by("name"))
    valid = {key for key, _ in sort_options(models=models, metrics=metrics)}
    sort = sort if sort and sort.removeprefix("-") in valid else "row"
    position = Case(
        *(When(model_alias=alias, then=Value(i)) for i, alias in enumerate(models)), output_field=IntegerField()
    )
    results = EvaluationResult.objects.filter(evaluation=evaluation)
    score_fields = []
    for i, metric in enumerate(metrics):
        score = MetricScore.objects.filter(result=OuterRef("pk"), metric=metric)
        results = results.annotate(
            **{
                f"s{i}_status": Subquery(score.values("status")[:1]),
                f"s{i}_mean": Subquery(score.values("mean")[:1]),
                f"s{i}_error": Subquery(score.values("error")[:1]),
                f"s{i}_judgements": Subquery(score.values("judgements")[:1]),
            }
        )
        score_fields += [f"s{i}_status", f"s{i}_mean", f"s{i}_error", f"s{i}_judgements"]
    ordering: list[Any] = []
    key = sort.removeprefix("-")
    if key != "row":
        # The value the page sorts the row by, here for each output's row.
        results = results.annotate(row_sort=_row_sort_expression(evaluation, key, models, row=OuterRef("row_id")))
        value = F("row_sort")
        ordering.append(value.desc(nulls_last=True) if sort.startswith("-") else value.asc(nulls_last=True))
    ordering += ["-row__index" if sort == "-row" else "row__index", position]
    values = results.order_by(*ordering).values_list(*CELL_FIELDS, "row__index", "row__values", *score_fields)

    def lines() -> Iterator[tuple[int, dict, Cell]]:
        width = len(CELL_FIELDS)
        for item in values.iterator(chunk_size=STREAM_CHUNK):
            cell = _cell(item)
            for i, metric in enumerate(metrics):
                status, mean, error, judgements = item[width + 2 + 4 * i : width + 6 + 4 * i]
                if status is not None:
                    if isinstance(judgements, str):  # a subquery's JSON comes back as text on some backends
                        judgements = json.loads(judgements)
                    cell.scores[metric.uuid] = ScoreCell(
                        status=status, mean=mean, error=error or "", judgements=judgements or []
                    )
            yield item[width], item[width + 1], cell

    return StreamedResults(
        evaluation=evaluation,
        models=models,
        metrics=metrics,
        columns=list(evaluation.dataset.columns),
        sort=sort,
        lines=lines(),
    )


# One output, for its cell's dialog


def output_detail(*, evaluation: Evaluation, run_id: Any) -> dict | None:
    """One output of the evaluation as its results cell's dialog shows it; None when `run_id` is neither an output's
    current run nor an earlier attempt of one in this evaluation (so another organisation's run is never read).

    Shape: {"row": {"index", "values"}, "model", "attempt", "run": the current run as runners.presenters
    .run_representation gives it (messages as sent, the request with its secrets redacted, output, reasoning,
    tool_calls, usage, latency_ms, error), "attempts": earlier runs replaced by re-runs, newest first, each
    {"number", "replaced_at", "run"}, "scores": per metric (by name) {"metric": {"id", "name", "kind"}, "status",
    "mean", "error", "judgements": each judge's {"outcome", "score", "reason", "thinking"?} or {"outcome", "error"},
    "judge_runs": [{"index", "attempt", "superseded", "outcome", "run", "status", "output", "error"}]}}.
    Four queries.
    """
    result = (
        EvaluationResult.objects.filter(evaluation=evaluation)
        .filter(Q(run_id=run_id) | Q(attempts__run_id=run_id))
        .select_related("run", "row")
        .first()
    )
    if result is None:
        return None
    attempts = result.attempts.select_related("run").order_by("-number")
    scores = MetricScore.objects.filter(result=result).select_related("metric").order_by("metric__name")
    judge_runs: dict[int, list[dict]] = {}
    for judge_run in JudgeRun.objects.filter(score__result=result).select_related("run").order_by("index", "attempt"):
        run = judge_run.run
        judge_runs.setdefault(judge_run.score_id, []).append(
            {
                "index": judge_run.index,
                "attempt": judge_run.attempt,
                "superseded": judge_run.superseded,
                "outcome": judge_run.outcome,
                "run": str(run.pk),
                "status": run.status,
                "output": run.output,
                "error": run.error,
            }
        )
    return {
        "row": {"index": result.row.index, "values": result.row.values},
        "model": result.model_alias,
        "attempt": result.attempt,
        "run": run_representation(result.run),
        "attempts": [
            {"number": a.number, "replaced_at": timestamp(a.replaced_at), "run": run_representation(a.run)}
            for a in attempts
        ],
        "scores": [
            {
                "metric": {"id": str(score.metric.uuid), "name": score.metric.name, "kind": score.metric.kind},
                "status": score.status,
                "mean": score.mean,
                "error": score.error or None,
                "judgements": score.judgements,
                "judge_runs": judge_runs.get(score.pk, []),
            }
            for score in scores
        ],
    }
