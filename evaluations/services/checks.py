"""Checks of what starts an evaluation: its models, metrics and dataset rows, each problem a Problem with
its path (appended to `errors`, so that one answer lists them all)."""

from typing import Any

from core.problems import Invalid, Problem
from evaluations.code_metrics import code_columns
from evaluations.judging import RESERVED_VARIABLES, prompt_variables
from evaluations.models import Dataset, Metric
from evaluations.selectors import metric_current, metric_get
from integrations.models import ModelProperty
from integrations.selectors import model_get
from prompts.templating import variable_root, variable_value
from runners.parameters import validate_parameters

MAX_MODELS = 4
MAX_METRICS = 10
MAX_ROW_ERRORS = 50


def models_resolve(*, organization, raw: Any, errors: list[Problem]) -> list[tuple[ModelProperty, dict]]:
    """Each {"model": alias, "parameters": {...}} (or a bare alias) as (model, clean parameters); 1 to MAX_MODELS."""
    if not isinstance(raw, list) or not raw:
        errors.append(Problem(("models",), "Pick at least one model.", "too_short"))
        return []
    if len(raw) > MAX_MODELS:
        errors.append(Problem(("models",), f"At most {MAX_MODELS} models.", "too_long"))
        return []
    resolved = []
    seen = set()
    for index, entry in enumerate(raw):
        entry = {"model": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict):
            errors.append(Problem(("models", index), 'An object {"model": alias, "parameters": {...}}.', "dict_type"))
            continue
        alias = entry.get("model")
        model = model_get(organization=organization, alias=alias) if isinstance(alias, str) else None
        if model is None:
            errors.append(
                Problem(
                    ("models", index, "model"), "Pick a model (an alias of one of your integrations).", "unknown_model"
                )
            )
            continue
        if alias in seen:
            errors.append(Problem(("models", index, "model"), f'"{alias}" is already in the evaluation.', "duplicate"))
            continue
        seen.add(alias)
        try:
            parameters = validate_parameters(entry.get("parameters"), loc_prefix=("models", index, "parameters"))
        except Invalid as exc:
            errors += exc.errors
            continue
        resolved.append((model, parameters))
    return resolved


def metrics_resolve(*, organization, raw: Any, dataset: Dataset | None, errors: list[Problem]) -> list[Metric]:
    """Metrics by public id (UUID): each judge model must exist and each variable (or a code metric's reference
    column) be a column of the dataset."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_METRICS:
        errors.append(Problem(("metrics",), f"A list of at most {MAX_METRICS} metric ids.", "list_type"))
        return []
    metrics = []
    for index, metric_id in enumerate(raw):
        metric = metric_get(organization=organization, metric_id=metric_id)
        if metric is None:
            errors.append(Problem(("metrics", index), "No such metric.", "unknown_metric"))
            continue
        if metric.replaced_at is not None:
            current = metric_current(metric=metric)
            errors.append(
                Problem(
                    ("metrics", index),
                    f'The metric "{metric.name}" v{metric.version} was replaced by v{current.version} '
                    f"(id {current.uuid}); start with the current version.",
                    "metric_replaced",
                )
            )
            continue
        if not metric.is_code and model_get(organization=organization, alias=metric.judge_model) is None:
            errors.append(
                Problem(
                    ("metrics", index),
                    f'The metric "{metric.name}" cannot judge: its judge model "{metric.judge_model}" no longer '
                    "exists (its integration was deleted or the model removed). Edit the metric to pick another "
                    "judge model.",
                    "judge_model_missing",
                )
            )
        if dataset is not None:
            unknown = [
                name
                for name in (code_columns(metric.code) if metric.is_code else prompt_variables(metric.prompt))
                if name not in RESERVED_VARIABLES and variable_root(name) not in dataset.columns
            ]
            for name in unknown:
                errors.append(
                    Problem(
                        ("metrics", index),
                        f'The metric "{metric.name}" uses {{{{{name}}}}}, which is not a column of the dataset.',
                        "unknown_variable",
                    )
                )
        if metric not in metrics:
            metrics.append(metric)
    return metrics


def rows_check(*, variables: list[str], dataset: Dataset, rows: list[tuple[int, dict]]) -> list[Problem]:
    """Prompt variables that are no column, and rows without a value for one (at most MAX_ROW_ERRORS listed).

    `rows` are (index, values) pairs, as one values_list query reads them (no model instance per row). Only the
    variables the prompt uses must have a value: a dataset may keep empty cells in other columns.
    """
    errors = []
    not_columns = [name for name in variables if variable_root(name) not in dataset.columns]
    for name in not_columns:
        errors.append(
            Problem(
                ("messages",),
                f'The prompt uses {{{{{name}}}}}, but the dataset "{dataset.name}" has no such column'
                f" (its columns: {', '.join(dataset.columns)}).",
                "unknown_variable",
            )
        )
    row_errors = [
        Problem(("dataset", "rows", index, name), f"row {index}: no value for {{{{{name}}}}}.", "missing")
        for index, values in rows
        for name in variables
        if name not in not_columns and not (variable_value(values, name) or "").strip()
    ]
    if len(row_errors) > MAX_ROW_ERRORS:
        left_out = len(row_errors) - MAX_ROW_ERRORS
        row_errors = row_errors[:MAX_ROW_ERRORS]
        row_errors.append(Problem(("dataset", "rows"), f"… and {left_out} more row(s) without a value.", "missing"))
    return errors + row_errors
