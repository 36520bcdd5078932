"""Writes for evaluations: datasets, metrics, starting an evaluation, advancing it (judges, scores), cancelling it.

Every run is created here in bulk but executed like any other: `runners.tasks.execute_run` receives its id
once the transaction that created it commits. An evaluation advances as its runs finish: the worker that stored a
run's outcome sends `runners.signals.run_finished`, and `run_finished_advance` (connected in EvaluationsConfig.ready)
creates the judges of a finished output, records the score of a finished judge and finishes the evaluation after its
last run. Reads (pages, API) never advance anything. Every step is idempotent: a conditional UPDATE (or a unique
constraint) decides which caller does a piece of work, so several worker threads, and the periodic safety net
(`evaluations.tasks.advance_evaluation`), may advance the same evaluation at the same time.
"""

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from evaluations.datasets import decode, parse_dataset
from evaluations.judging import (
    RESERVED_VARIABLES,
    VerdictInvalid,
    judge_messages,
    parse_verdict,
    prompt_variables,
    render_input,
)
from evaluations.models import (
    Dataset,
    DatasetRow,
    Evaluation,
    EvaluationResult,
    JudgeRun,
    Metric,
    MetricScore,
    ScoreStatus,
)
from integrations.document import DocumentError, DocumentInvalid
from integrations.models import ModelProperty
from integrations.selectors import model_get
from organizations.models import Organization
from organizations.services import default_project
from playground.services import message_variables, messages_render
from runners.models import Job, Run, RunStatus
from runners.parameters import validate_parameters
from runners.services import RunSpec, job_create, runs_enqueue_bulk, runs_publish_queued, validate_messages

MAX_MODELS = 4
MAX_METRICS = 10
MAX_JUDGES = 10
MAX_RUNS = 20_000
MAX_ROW_ERRORS = 50
MAX_NAME = 200
CANCELLED = "cancelled"


class InUse(Exception):
    """An object that others still refer to (a dataset with evaluations)."""


def _name(raw: Any, *, default: str | None = None, loc: tuple = ("name",)) -> str:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name and default:
        return default[:MAX_NAME]
    if not name:
        raise DocumentInvalid([DocumentError(loc, "Give it a name.", "missing")])
    if len(name) > MAX_NAME:
        raise DocumentInvalid([DocumentError(loc, f"At most {MAX_NAME} characters.", "too_long")])
    return name


# Datasets


def dataset_create(
    *,
    organization: Organization,
    user,
    name: Any,
    text: str | None = None,
    data: bytes | None = None,
    format: str | None = None,
    file_name: str = "",
) -> Dataset:
    """A dataset from pasted text or uploaded bytes (CSV or JSONL); DocumentInvalid lists its row/column errors."""
    errors: list[DocumentError] = []
    try:
        clean_name = _name(name, default=file_name.rsplit("/", 1)[-1])
    except DocumentInvalid as exc:
        errors += exc.errors
    try:
        if data is not None:
            text = decode(data)
        if not isinstance(text, str):
            raise DocumentInvalid([DocumentError(("content",), "Upload a file or paste the data.", "missing")])
        parsed = parse_dataset(text=text, format=format, file_name=file_name)
    except DocumentInvalid as exc:
        errors += exc.errors
    if errors:
        raise DocumentInvalid(errors)
    with transaction.atomic():
        dataset = Dataset.objects.create(
            organization=organization,
            name=clean_name,
            created_by=user,
            columns=parsed.columns,
            row_count=len(parsed.rows),
            source_format=parsed.format,
        )
        DatasetRow.objects.bulk_create(
            [DatasetRow(dataset=dataset, index=index, values=values) for index, values in enumerate(parsed.rows, 1)],
            batch_size=1000,
        )
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    used = dataset.evaluations.count()
    if used:
        raise InUse(f"The dataset is used by {used} evaluation(s); it is kept so that their results stay readable.")
    dataset.delete()


def can_delete(*, user, obj: Dataset | Evaluation | Metric) -> bool:
    """Admins and the creator (DESIGN.md §5)."""
    membership = getattr(user, "membership", None)
    if membership is None or membership.organization_id != obj.organization_id:
        return False
    return membership.is_admin or obj.created_by_id == user.pk


# Metrics


def metric_create(
    *,
    organization: Organization,
    user,
    name: Any,
    judge_model: Any,
    prompt: Any,
    judges: Any = 1,
    parameters: Any = None,
) -> Metric:
    errors: list[DocumentError] = []
    try:
        clean_name = _name(name)
    except DocumentInvalid as exc:
        errors += exc.errors
        clean_name = ""
    if clean_name and Metric.objects.filter(organization=organization, name=clean_name).exists():
        errors.append(DocumentError(("name",), f'A metric named "{clean_name}" already exists.', "unique"))
    if not isinstance(judge_model, str) or model_get(organization=organization, alias=judge_model) is None:
        errors.append(
            DocumentError(("judge_model",), "Pick the model that judges (any integration's model).", "unknown_model")
        )
    if isinstance(judges, str) and judges.strip().isdigit():
        judges = int(judges)
    if isinstance(judges, bool) or not isinstance(judges, int) or not 1 <= judges <= MAX_JUDGES:
        errors.append(DocumentError(("judges",), f"A whole number from 1 to {MAX_JUDGES}.", "int_range"))
    if not isinstance(prompt, str) or not prompt.strip():
        errors.append(DocumentError(("prompt",), "Write the judge prompt.", "missing"))
    elif "output" not in prompt_variables(prompt):
        errors.append(
            DocumentError(("prompt",), "The judge prompt must show the judged answer as {{output}}.", "missing_output")
        )
    try:
        clean_parameters = validate_parameters(parameters)
    except DocumentInvalid as exc:
        errors += exc.errors
        clean_parameters = {}
    if errors:
        raise DocumentInvalid(errors)
    return Metric.objects.create(
        organization=organization,
        name=clean_name,
        created_by=user,
        judge_model=judge_model,
        judges=judges,
        prompt=prompt,
        parameters=clean_parameters,
    )


# Evaluations


def _resolve_models(*, organization, raw: Any, errors: list[DocumentError]) -> list[tuple[ModelProperty, dict]]:
    if not isinstance(raw, list) or not raw:
        errors.append(DocumentError(("models",), "Pick at least one model.", "too_short"))
        return []
    if len(raw) > MAX_MODELS:
        errors.append(DocumentError(("models",), f"At most {MAX_MODELS} models.", "too_long"))
        return []
    resolved = []
    seen = set()
    for index, entry in enumerate(raw):
        entry = {"model": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict):
            errors.append(
                DocumentError(("models", index), 'An object {"model": alias, "parameters": {...}}.', "dict_type")
            )
            continue
        alias = entry.get("model")
        model = model_get(organization=organization, alias=alias) if isinstance(alias, str) else None
        if model is None:
            errors.append(
                DocumentError(
                    ("models", index, "model"), "Pick a model (an alias of one of your integrations).", "unknown_model"
                )
            )
            continue
        if alias in seen:
            errors.append(
                DocumentError(("models", index, "model"), f'"{alias}" is already in the evaluation.', "duplicate")
            )
            continue
        seen.add(alias)
        try:
            parameters = validate_parameters(entry.get("parameters"), loc_prefix=("models", index, "parameters"))
        except DocumentInvalid as exc:
            errors += exc.errors
            continue
        resolved.append((model, parameters))
    return resolved


def _resolve_metrics(*, organization, raw: Any, dataset: Dataset | None, errors: list[DocumentError]) -> list[Metric]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_METRICS:
        errors.append(DocumentError(("metrics",), f"A list of at most {MAX_METRICS} metric ids.", "list_type"))
        return []
    metrics = []
    for index, metric_id in enumerate(raw):
        metric = None
        if isinstance(metric_id, int | str) and str(metric_id).isdigit():
            metric = Metric.objects.filter(organization=organization, pk=int(metric_id)).first()
        if metric is None:
            errors.append(DocumentError(("metrics", index), "No such metric.", "unknown_metric"))
            continue
        if model_get(organization=organization, alias=metric.judge_model) is None:
            errors.append(
                DocumentError(
                    ("metrics", index), f'The judge model "{metric.judge_model}" no longer exists.', "unknown_model"
                )
            )
        if dataset is not None:
            unknown = [
                name
                for name in prompt_variables(metric.prompt)
                if name not in RESERVED_VARIABLES and name not in dataset.columns
            ]
            for name in unknown:
                errors.append(
                    DocumentError(
                        ("metrics", index),
                        f'The metric "{metric.name}" uses {{{{{name}}}}}, which is not a column of the dataset.',
                        "unknown_variable",
                    )
                )
        if metric not in metrics:
            metrics.append(metric)
    return metrics


def _row_errors(*, variables: list[str], dataset: Dataset, rows: list[DatasetRow]) -> list[DocumentError]:
    errors = []
    not_columns = [name for name in variables if name not in dataset.columns]
    for name in not_columns:
        errors.append(
            DocumentError(
                ("messages",),
                f'The prompt uses {{{{{name}}}}}, but the dataset "{dataset.name}" has no such column'
                f" (its columns: {', '.join(dataset.columns)}).",
                "unknown_variable",
            )
        )
    row_errors = [
        DocumentError(("dataset", "rows", row.index, name), f"row {row.index}: no value for {{{{{name}}}}}.", "missing")
        for row in rows
        for name in variables
        if name not in not_columns and not (isinstance(row.values.get(name), str) and row.values[name].strip())
    ]
    if len(row_errors) > MAX_ROW_ERRORS:
        left_out = len(row_errors) - MAX_ROW_ERRORS
        row_errors = row_errors[:MAX_ROW_ERRORS]
        row_errors.append(
            DocumentError(("dataset", "rows"), f"… and {left_out} more row(s) without a value.", "missing")
        )
    return errors + row_errors


def evaluation_create(
    *,
    organization: Organization,
    user,
    dataset: Any,
    messages: Any,
    models: Any,
    metrics: Any = None,
    name: Any = None,
) -> Evaluation:
    """Check everything, then create one queued Run per row x model in one transaction (all or nothing).

    `dataset` is a Dataset id; `models` a list of {"model": alias, "parameters": {...}}; `metrics` Metric ids.
    """
    errors: list[DocumentError] = []
    dataset_obj = None
    if isinstance(dataset, int | str) and str(dataset).isdigit():
        dataset_obj = Dataset.objects.filter(organization=organization, pk=int(dataset)).first()
    if dataset_obj is None:
        errors.append(DocumentError(("dataset",), "Pick a dataset.", "unknown_dataset"))
    try:
        clean_name = _name(
            name, default=f"{dataset_obj.name} · {timezone.now():%Y-%m-%d %H:%M}" if dataset_obj else "Evaluation"
        )
    except DocumentInvalid as exc:
        errors += exc.errors
    try:
        validate_messages(messages)
    except DocumentInvalid as exc:
        errors += exc.errors
        messages = None
    columns = _resolve_models(organization=organization, raw=models, errors=errors)
    metric_list = _resolve_metrics(organization=organization, raw=metrics, dataset=dataset_obj, errors=errors)
    rows: list[DatasetRow] = []
    if dataset_obj is not None:
        rows = list(dataset_obj.rows.order_by("index"))
        if messages is not None:
            errors += _row_errors(variables=message_variables(messages), dataset=dataset_obj, rows=rows)
        if columns and len(rows) * len(columns) > MAX_RUNS:
            errors.append(
                DocumentError(
                    ("models",),
                    f"{len(rows)} rows x {len(columns)} models is more than {MAX_RUNS} runs.",
                    "too_many_runs",
                )
            )
    if errors:
        raise DocumentInvalid(errors)

    project = default_project(organization=organization)
    with transaction.atomic():
        job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION, project=project)
        judge_job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION, project=project)
        evaluation = Evaluation.objects.create(
            organization=organization,
            name=clean_name,
            created_by=user,
            dataset=dataset_obj,
            messages=messages,
            model_columns=[{"alias": model.alias, "parameters": parameters} for model, parameters in columns],
            judges_per_output=sum(metric.judges for metric in metric_list),
            job=job,
            judge_job=judge_job,
            total_runs=len(rows) * len(columns),
        )
        evaluation.metrics.set(metric_list)
        specs, pairs = [], []
        for row in rows:
            rendered = messages_render(messages, row.values)
            for model, parameters in columns:
                specs.append(RunSpec(model=model, messages=rendered, parameters=parameters))
                pairs.append((row, model.alias))
        runs = runs_enqueue_bulk(specs=specs, user=user, job=job, publish=False)
        EvaluationResult.objects.bulk_create(
            [
                EvaluationResult(evaluation=evaluation, row=row, model_alias=alias, run=run)
                for (row, alias), run in zip(pairs, runs, strict=True)
            ],
            batch_size=1000,
        )
        evaluation_id = str(evaluation.pk)
        transaction.on_commit(lambda: _schedule_dispatch(evaluation_id))
    return evaluation


def _schedule_dispatch(evaluation_id: str) -> None:
    # One message now; a worker fans out the runs (publishing hundreds of messages takes seconds).
    from evaluations.tasks import dispatch_evaluation

    dispatch_evaluation.delay(evaluation_id)


def evaluation_dispatch(*, evaluation: Evaluation) -> int:
    """Hand every queued output run to execute_run (by id), then start advancing the evaluation.

    Idempotent: a run sent twice is executed once (the worker's claim is a conditional UPDATE from queued),
    and a cancelled run is no longer queued.
    """
    from evaluations.tasks import advance_evaluation

    published = runs_publish_queued(job=evaluation.job)
    advance_evaluation.delay(str(evaluation.pk))
    return published


def evaluation_cancel(*, evaluation: Evaluation) -> int:
    """Stop what has not started: queued runs (outputs and judges) fail with error_type "cancelled".

    A conditional UPDATE from queued, so a worker's claim (also from queued) and this never both win;
    runs already running finish normally. Returns the number of runs cancelled.
    """
    Evaluation.objects.filter(pk=evaluation.pk, cancelled_at__isnull=True, finished_at__isnull=True).update(
        cancelled_at=timezone.now()
    )
    evaluation.refresh_from_db(fields=["cancelled_at", "finished_at"])
    cancelled = _cancel_queued(evaluation)
    # Cancelled runs send no run_finished: record what they leave behind (failed judges) and finish if nothing runs.
    evaluation_advance(evaluation=evaluation)
    return cancelled


def _cancel_queued(evaluation: Evaluation) -> int:
    return Run.objects.filter(job_id__in=(evaluation.job_id, evaluation.judge_job_id), status=RunStatus.QUEUED).update(
        status=RunStatus.FAILED,
        error_type=CANCELLED,
        error_message="Cancelled with the evaluation before it started.",
        finished_at=timezone.now(),
    )


def evaluation_advance(*, evaluation: Evaluation) -> bool:
    """One step of background work: judges for new outputs, scores from finished judges, the end. True when finished.

    Safe to call any number of times, from anywhere, concurrently.
    """
    if evaluation.finished_at:
        return True
    if evaluation.cancelled_at:
        _cancel_queued(evaluation)  # judges enqueued by a step that raced the cancel
    else:
        _enqueue_judges(evaluation)
    _record_scores(evaluation)
    return _finish_if_done(evaluation)


def run_finished_advance(*, run_id: str, status: str, job_id: str | None) -> None:
    """Advance what a finished run moves on (the receiver of runners.signals.run_finished, on the worker).

    A succeeded output of an evaluation gets its judge runs; a finished judge run (of an evaluation or of a run
    scored on its own) records its score once all judges of that score have answered; the evaluation finishes
    when nothing is left to do. Runs of other jobs cost one query.
    """
    if job_id is None:
        return
    evaluation = Evaluation.objects.filter(Q(job_id=job_id) | Q(judge_job_id=job_id)).first()
    if evaluation is None or str(evaluation.judge_job_id) == str(job_id):
        recorded = scores_record(scores=MetricScore.objects.filter(judge_runs__run_id=run_id))
        if evaluation is None or not recorded:
            return
    elif status == RunStatus.SUCCEEDED and not evaluation.cancelled_at and not evaluation.finished_at:
        _enqueue_judges(evaluation, run_id=run_id)
    if not evaluation.finished_at:
        _finish_if_done(evaluation)


def _enqueue_judges(evaluation: Evaluation, *, run_id: str | None = None) -> int:
    """Judge runs for each newly succeeded output (only that of `run_id` if given); the claim (a conditional
    UPDATE from NULL) makes them once only."""
    if not evaluation.judges_per_output:
        return 0
    candidates = EvaluationResult.objects.filter(
        evaluation=evaluation, judge_claim__isnull=True, run__status=RunStatus.SUCCEEDED
    )
    if run_id is not None:
        candidates = candidates.filter(run_id=run_id)
    candidates = list(candidates.values_list("pk", flat=True))
    if not candidates:
        return 0
    claim = uuid.uuid4()
    try:
        with transaction.atomic():
            # Locking the evaluation row orders this step and a cancel (which updates that row): once a
            # cancel has committed, no new judge is created; a cancel that waited here fails the new ones.
            live = Evaluation.objects.select_for_update().filter(pk=evaluation.pk, cancelled_at__isnull=True)
            if not list(live.values_list("pk", flat=True)):
                return 0
            claimed = EvaluationResult.objects.filter(pk__in=candidates, judge_claim__isnull=True).update(
                judge_claim=claim
            )
            if not claimed:
                return 0
            results = list(EvaluationResult.objects.filter(judge_claim=claim).select_related("run", "row"))
            metrics = list(evaluation.metrics.all())
            judge_models = {
                metric.pk: model_get(organization=evaluation.organization_id, alias=metric.judge_model)
                for metric in metrics
            }
            scores, specs = [], []
            for result in results:
                for metric in metrics:
                    model = judge_models[metric.pk]
                    score = MetricScore(result=result, scored_run=result.run, metric=metric)
                    if model is None:
                        score.status = ScoreStatus.FAILED
                        score.error = f'The judge model "{metric.judge_model}" no longer exists.'
                    scores.append(score)
            MetricScore.objects.bulk_create(scores)
            judge_links = []
            for score in scores:
                if score.status != ScoreStatus.PENDING:
                    continue
                metric = score.metric
                messages = judge_messages(
                    prompt=metric.prompt,
                    input=render_input(score.result.run.messages),
                    output=score.result.run.output or "",
                    row=score.result.row.values,
                )
                for index in range(metric.judges):
                    specs.append(
                        RunSpec(model=judge_models[metric.pk], messages=messages, parameters=metric.parameters)
                    )
                    judge_links.append((score, index))
            runs = runs_enqueue_bulk(specs=specs, user=evaluation.created_by, job=evaluation.judge_job)
            JudgeRun.objects.bulk_create(
                [
                    JudgeRun(score=score, index=index, run=run)
                    for (score, index), run in zip(judge_links, runs, strict=True)
                ]
            )
    except IntegrityError:
        # Another step created these scores first (the unique constraints are the last line of defence).
        return 0
    return len(specs)


def _record_scores(evaluation: Evaluation) -> int:
    return scores_record(scores=MetricScore.objects.filter(result__evaluation=evaluation))


def scores_record(*, scores) -> int:
    """Parse the answers of scores whose judges have all finished; an unparsable answer is an error on that score."""
    ready = (
        scores.filter(status=ScoreStatus.PENDING)
        .exclude(judge_runs__run__status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
        .prefetch_related("judge_runs__run")
    )
    recorded = 0
    for score in ready:
        judgements, valid, problems = [], [], []
        for judge_run in score.judge_runs.all():
            judgement = _judgement(judge_run.run)
            judgements.append(judgement)
            if "error" in judgement:
                problems.append(f"judge {judge_run.index + 1}: {judgement['error']}")
            else:
                valid.append(judgement["score"])
        if not judgements:
            continue  # its judge runs are not visible yet
        recorded += MetricScore.objects.filter(pk=score.pk, status=ScoreStatus.PENDING).update(
            status=ScoreStatus.SCORED if valid else ScoreStatus.FAILED,
            judgements=judgements,
            mean=sum(valid) / len(valid) if valid else None,
            error="; ".join(problems),
        )
    return recorded


def _judgement(run: Run) -> dict:
    if run.status != RunStatus.SUCCEEDED:
        if run.error_type == CANCELLED:
            return {"error": "cancelled"}
        return {"error": f"the judge run failed ({run.error_type}): {run.error_message or ''}".strip()}
    try:
        verdict = parse_verdict(run.output)
    except VerdictInvalid as exc:
        return {"error": str(exc)}
    return {"score": verdict.score, "reason": verdict.reason}


def _finish_if_done(evaluation: Evaluation) -> bool:
    busy = Run.objects.filter(
        job_id__in=(evaluation.job_id, evaluation.judge_job_id), status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    ).exists()
    if busy:
        return False
    if MetricScore.objects.filter(result__evaluation=evaluation, status=ScoreStatus.PENDING).exists():
        return False
    if (
        evaluation.judges_per_output
        and not evaluation.cancelled_at
        and EvaluationResult.objects.filter(
            evaluation=evaluation, judge_claim__isnull=True, run__status=RunStatus.SUCCEEDED
        ).exists()
    ):
        return False
    Evaluation.objects.filter(pk=evaluation.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    evaluation.refresh_from_db(fields=["finished_at", "cancelled_at"])
    return True


# Judging any run (a Playground comparison's columns, an API run)

MAX_JUDGED_RUNS = 16


def run_scores_request(*, organization: Organization, user, metric: Metric, runs: Any) -> list[MetricScore]:
    """Score succeeded runs with a metric: N judge runs each, averaged as in an evaluation.

    Idempotent per (run, metric): asking again returns the existing score. Read the outcome with run_scores_get.
    """
    errors: list[DocumentError] = []
    if not isinstance(runs, list) or not runs or len(runs) > MAX_JUDGED_RUNS:
        raise DocumentInvalid([DocumentError(("runs",), f"A list of 1 to {MAX_JUDGED_RUNS} run ids.", "list_type")])
    found = {str(run.pk): run for run in Run.objects.filter(organization=organization, pk__in=_uuids(runs))}
    ordered: list[Run] = []
    for index, run_id in enumerate(runs):
        run = found.get(str(run_id))
        if run is None:
            errors.append(DocumentError(("runs", index), "No such run.", "not_found"))
        elif run.status != RunStatus.SUCCEEDED:
            errors.append(
                DocumentError(
                    ("runs", index), f"Only a succeeded run can be judged; this one is {run.status}.", "not_done"
                )
            )
        elif run not in ordered:
            ordered.append(run)
    extra = [name for name in prompt_variables(metric.prompt) if name not in RESERVED_VARIABLES]
    if extra:
        names = ", ".join("{{" + name + "}}" for name in extra)
        errors.append(
            DocumentError(
                ("metric",), f"The metric uses {names}, which only a dataset row can fill.", "unknown_variable"
            )
        )
    judge_model = model_get(organization=organization, alias=metric.judge_model)
    if judge_model is None:
        errors.append(
            DocumentError(("metric",), f'The judge model "{metric.judge_model}" no longer exists.', "unknown_model")
        )
    if errors:
        raise DocumentInvalid(errors)
    existing = {score.scored_run_id for score in MetricScore.objects.filter(scored_run__in=ordered, metric=metric)}
    new = [run for run in ordered if run.pk not in existing]
    if new:
        try:
            with transaction.atomic():
                job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION)
                scores = MetricScore.objects.bulk_create([MetricScore(scored_run=run, metric=metric) for run in new])
                specs, links = [], []
                for score, run in zip(scores, new, strict=True):
                    messages = judge_messages(
                        prompt=metric.prompt, input=render_input(run.messages), output=run.output or "", row={}
                    )
                    for index in range(metric.judges):
                        specs.append(RunSpec(model=judge_model, messages=messages, parameters=metric.parameters))
                        links.append((score, index))
                judge_runs = runs_enqueue_bulk(specs=specs, user=user, job=job)
                JudgeRun.objects.bulk_create(
                    [
                        JudgeRun(score=score, index=index, run=run)
                        for (score, index), run in zip(links, judge_runs, strict=True)
                    ]
                )
        except IntegrityError:
            pass  # asked twice at once: the other request created them
    return run_scores_get(organization=organization, runs=[run.pk for run in ordered], metric=metric)


def run_scores_get(*, organization: Organization, runs: list, metric: Metric | None = None) -> list[MetricScore]:
    """The scores of these runs, in the order of `runs` (a read: the workers record scores as judges finish)."""
    scores = MetricScore.objects.filter(scored_run__organization=organization, scored_run__in=_uuids(runs))
    if metric is not None:
        scores = scores.filter(metric=metric)
    position = {str(run_id): index for index, run_id in enumerate(runs)}
    found = scores.select_related("metric").order_by("metric__name")
    return sorted(found, key=lambda score: position.get(str(score.scored_run_id), len(position)))


def _uuids(values: list) -> list[uuid.UUID]:
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return parsed
