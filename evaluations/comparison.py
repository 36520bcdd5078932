"""Comparing evaluations of the same dataset: per row side by side, per metric the change against a baseline.

A comparison's columns are every (evaluation, model) pair in the order asked, the first evaluation's first model
being the baseline. Rows are the dataset's rows (the same Dataset, so the same rows in every evaluation). For each
metric and each other column, a row's change is the sign of (its score - the baseline's score) when both were
scored, and the column's change is the mean of those paired differences with a paired t-interval
(evaluations.statistics). Five queries whatever the number of rows.
"""

import uuid
from dataclasses import dataclass, field

from core.problems import Invalid, Problem
from evaluations.models import DatasetRow, Evaluation, EvaluationResult, Metric, MetricScore
from evaluations.selectors import public_id
from evaluations.statistics import PairedChange, paired_change

MIN_COMPARED = 2
MAX_COMPARED = 8
ROW_FILTERS = ("all", "better", "worse", "unchanged")


class ComparisonNotFound(LookupError):
    """An id that is no evaluation of this organisation (a 404: another organisation's is not told apart)."""


@dataclass
class Column:
    evaluation: Evaluation
    alias: str
    position: int

    @property
    def label(self) -> str:
        return f"{self.evaluation.name} · {self.alias}"


@dataclass
class CompareScore:
    status: str
    mean: float | None
    error: str


@dataclass
class CompareCell:
    run_id: str
    status: str
    output: str | None
    error_type: str | None
    scores: dict[uuid.UUID, CompareScore] = field(default_factory=dict)

    def score(self, metric_id: uuid.UUID) -> float | None:
        score = self.scores.get(metric_id)
        return score.mean if score else None


@dataclass
class CompareRow:
    index: int
    values: dict
    cells: list[CompareCell | None]

    def score(self, metric_id: uuid.UUID, position: int) -> float | None:
        cell = self.cells[position]
        return cell.score(metric_id) if cell else None

    def difference(self, metric_id: uuid.UUID, position: int) -> float | None:
        """This column's score - the baseline's, when both were scored."""
        other, base = self.score(metric_id, position), self.score(metric_id, 0)
        return None if other is None or base is None else other - base

    def change(self, metric_id: uuid.UUID, position: int) -> str | None:
        """ "better", "worse" or "unchanged" (the sign of the paired difference), None when not both scored."""
        difference = self.difference(metric_id, position)
        if difference is None:
            return None
        return "better" if difference > 0 else "worse" if difference < 0 else "unchanged"


@dataclass
class ColumnStats:
    """One metric in one column: the mean of its scored rows, and (not for the baseline) the paired change."""

    mean: float | None
    scored: int
    change: PairedChange | None


@dataclass
class MetricComparison:
    metric: Metric
    columns: list[ColumnStats]


@dataclass
class Comparison:
    evaluations: list[Evaluation]
    columns: list[Column]
    metrics: list[Metric]
    dataset_columns: list[str]
    rows: list[CompareRow]  # all rows, sorted and filtered as asked
    total_rows: int
    stats: list[MetricComparison]
    focus: tuple[uuid.UUID, int] | None  # (metric id, column) the sort and filter look at
    sort: str
    show: str


def comparison_evaluations(*, organization, ids) -> list[Evaluation]:
    """The evaluations to compare, in the order of `ids` (a list of ids, or one comma-separated string).

    Raises Invalid (loc ("ids",) or ("ids", i)) for fewer than MIN_COMPARED or more than MAX_COMPARED ids or one
    that is no UUID, ComparisonNotFound for an id that is no evaluation of the organisation, Invalid for a repeated
    id or an evaluation of another dataset than the first's.
    """
    if isinstance(ids, str):
        ids = [ids]
    raw = [part.strip() for item in (ids or []) for part in str(item).split(",") if part.strip()]
    if not MIN_COMPARED <= len(raw) <= MAX_COMPARED:
        kind = "too_short" if len(raw) < MIN_COMPARED else "too_long"
        raise Invalid([Problem(("ids",), f"Pick {MIN_COMPARED} to {MAX_COMPARED} evaluations to compare.", kind)])
    parsed: list[uuid.UUID | None] = [public_id(value) for value in raw]
    errors: list[Problem] = [
        Problem(("ids", index), "An evaluation id (a UUID).", "uuid_parsing")
        for index, value in enumerate(parsed)
        if value is None
    ]
    if errors:
        raise Invalid(errors)
    found = {
        evaluation.pk: evaluation
        for evaluation in Evaluation.objects.filter(
            organization=organization, pk__in=[value for value in parsed if value]
        )
        .select_related("dataset", "prompt_version__prompt")
        .prefetch_related("metrics")
    }
    evaluations: list[Evaluation] = []
    for index, value in enumerate(parsed):
        if value not in found:
            raise ComparisonNotFound(f"No evaluation {raw[index]!r} here.")
        if found[value] in evaluations:
            errors.append(Problem(("ids", index), "This evaluation is already in the comparison.", "duplicate"))
            continue
        evaluations.append(found[value])
    first = evaluations[0]
    for index, evaluation in enumerate(evaluations):
        if evaluation.dataset_id != first.dataset_id:
            errors.append(
                Problem(
                    ("ids", index),
                    f'This evaluation ran on dataset "{evaluation.dataset.name}", not on "{first.dataset.name}" of '
                    "the first: only evaluations of the same dataset (version) are compared row by row.",
                    "other_dataset",
                )
            )
    if errors:
        raise Invalid(errors)
    return evaluations


def comparison_get(
    *, organization, ids, focus: str | None = None, sort: str | None = None, show: str | None = None
) -> Comparison:
    """The comparison of these evaluations (see comparison_evaluations for the errors raised).

    `focus` is "<metric id>:<column>" (default: the first metric, column 1), the metric and column that `sort`
    ("row", "change", "-change", "score", "-score") and `show` (one of ROW_FILTERS) look at; unknown values fall
    back to the defaults. Rows without a value for the sort come last.
    """
    evaluations = comparison_evaluations(organization=organization, ids=ids)
    columns = [
        Column(evaluation=evaluation, alias=alias, position=0)
        for evaluation in evaluations
        for alias in evaluation.model_aliases
    ]
    for position, column in enumerate(columns):
        column.position = position
    metrics_by_id: dict[uuid.UUID, Metric] = {}
    for evaluation in evaluations:
        for metric in evaluation.metrics.all():
            metrics_by_id.setdefault(metric.uuid, metric)
    metrics = sorted(metrics_by_id.values(), key=lambda metric: metric.name)
    rows = _rows(evaluations, columns)
    stats = [_metric_stats(metric, rows, len(columns)) for metric in metrics]

    focus_key = _focus(focus, metrics, len(columns))
    sort = sort if sort in ("row", "change", "-change", "score", "-score") and focus_key else "row"
    show = show if show in ROW_FILTERS and focus_key else "all"
    shown = rows
    if focus_key and show != "all":
        shown = [row for row in rows if row.change(*focus_key) == show]
    if focus_key and sort != "row":
        kind = sort.removeprefix("-")
        sign = -1 if sort.startswith("-") else 1

        def value(row: CompareRow) -> float | None:
            return row.difference(*focus_key) if kind == "change" else row.score(*focus_key)

        present = [(value(row), row) for row in shown]
        ordered = sorted((p for p in present if p[0] is not None), key=lambda p: (sign * p[0], p[1].index))
        shown = [row for _, row in ordered] + [row for v, row in present if v is None]
    return Comparison(
        evaluations=evaluations,
        columns=columns,
        metrics=metrics,
        dataset_columns=list(evaluations[0].dataset.columns),
        rows=shown,
        total_rows=len(rows),
        stats=stats,
        focus=focus_key,
        sort=sort,
        show=show,
    )


def _focus(raw: str | None, metrics: list[Metric], column_count: int) -> tuple[uuid.UUID, int] | None:
    if not metrics or column_count < 2:
        return None
    default = (metrics[0].uuid, 1)
    if not raw:
        return default
    metric_text, _, position_text = raw.partition(":")
    metric_id = public_id(metric_text)
    if metric_id not in {metric.uuid for metric in metrics} or not position_text.isdigit():
        return default
    position = int(position_text)
    return (metric_id, position) if 1 <= position < column_count else default


def _rows(evaluations: list[Evaluation], columns: list[Column]) -> list[CompareRow]:
    position = {(column.evaluation.pk, column.alias): column.position for column in columns}
    dataset_rows = DatasetRow.objects.filter(dataset_id=evaluations[0].dataset_id).order_by("index")
    rows: dict[int, CompareRow] = {
        pk: CompareRow(index=index, values=values, cells=[None] * len(columns))
        for pk, index, values in dataset_rows.values_list("pk", "index", "values")
    }
    cells: dict[tuple, CompareCell] = {}
    results = EvaluationResult.objects.filter(evaluation__in=evaluations).values_list(
        "evaluation_id", "model_alias", "row_id", "run_id", "run__status", "run__output", "run__error_type"
    )
    for evaluation_id, alias, row_id, run_id, status, output, error_type in results:
        where = position.get((evaluation_id, alias))
        row = rows.get(row_id)
        if where is None or row is None:
            continue
        cell = CompareCell(run_id=str(run_id), status=status, output=output, error_type=error_type)
        row.cells[where] = cell
        cells[(evaluation_id, alias, row_id)] = cell
    scores = MetricScore.objects.filter(result__evaluation__in=evaluations).values_list(
        "result__evaluation_id", "result__model_alias", "result__row_id", "metric__uuid", "status", "mean", "error"
    )
    for evaluation_id, alias, row_id, metric_id, status, mean, error in scores:
        cell = cells.get((evaluation_id, alias, row_id))
        if cell is not None:
            cell.scores[metric_id] = CompareScore(status=status, mean=mean, error=error)
    return list(rows.values())


def _metric_stats(metric: Metric, rows: list[CompareRow], column_count: int) -> MetricComparison:
    stats = []
    for position in range(column_count):
        values = [value for row in rows if (value := row.score(metric.uuid, position)) is not None]
        mean = sum(values) / len(values) if values else None
        change = None
        if position:
            differences = [d for row in rows if (d := row.difference(metric.uuid, position)) is not None]
            change = paired_change(differences)
        stats.append(ColumnStats(mean=mean, scored=len(values), change=change))
    return MetricComparison(metric=metric, columns=stats)
