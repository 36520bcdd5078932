"""An evaluation's life: created (checked at once, its runs made at once or by a worker), dispatched to the workers,
advanced as runs finish, finished or cancelled.

Every run is created by runners.services.runs_enqueue_bulk but executed like any other. An evaluation advances as
its runs finish: the worker that stored a run's outcome sends `runners.signals.run_finished`, and
run_finished_advance (connected in EvaluationsConfig.ready) creates the judges of a finished output, records the
score of a finished judge and finishes the evaluation after its last run. Reads (pages, API) never advance anything.
Every step is idempotent: a conditional UPDATE (or a unique constraint) decides which caller does a piece of work,
so several worker threads, and the periodic safety net (`evaluations.tasks.advance_evaluation`), may advance the
same evaluation at the same time.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.problems import Invalid, Problem
from evaluations.models import (
    Evaluation,
    EvaluationCounters,
    EvaluationResult,
    Metric,
    MetricScore,
    ScoreStatus,
)
from evaluations.selectors import COUNTERS, dataset_get, public_id
from evaluations.services.checks import metrics_resolve, models_resolve, rows_check
from evaluations.services.common import CANCELLED, created_once, name_clean
from evaluations.services.counters import JUDGE_COUNTERS, outputs_count
from evaluations.services.scoring import evaluation_scored, judges_enqueue, scores_record
from integrations.selectors import model_get
from organizations.models import Organization
from organizations.services import default_project
from prompts.selectors import prompt_version_get_by_id, prompt_version_parameters
from prompts.services import prompt_version_use
from prompts.templating import message_variables, messages_render
from runners.models import Job, Run, RunStatus, WorkClass
from runners.services import RunSpec, job_create, runs_enqueue_bulk, runs_publish_queued, validate_messages

MAX_RUNS = 20_000
# Up to this many runs are made inside the request (a few hundred milliseconds); more are made by a worker while
# the evaluation shows "creating", so that the request answers at once at any size.
INLINE_RUNS_MAX = 1_000
# Evaluations still creating that one reaper pass sends again, at most.
RESUME_BATCH = 100

logger = logging.getLogger(__name__)


def evaluation_create_once(
    *, organization: Organization, user, idempotency_key: Any, **request
) -> tuple[Evaluation, bool]:
    """evaluation_create once per `idempotency_key`: (the evaluation, True if this call created it).

    The key is the client's (the `Idempotency-Key` header, draft-ietf-httpapi-idempotency-key-header; the new
    evaluation form sends a token made when the form was shown), 1 to 255 visible ASCII characters, kept per
    organisation. A repeated request with the same key and the same body gets the first evaluation, also when both
    arrive at once (the database's unique constraint decides); the same key with another body is an Invalid
    (`idempotency_conflict`), since it can only be a client's mistake. Both raise IdempotencyKeyInvalid.
    """
    return created_once(
        model=Evaluation,
        organization=organization,
        idempotency_key=idempotency_key,
        request=request,
        create=lambda idempotency: evaluation_create(
            organization=organization, user=user, idempotency=idempotency, **request
        ),
        what="evaluation",
    )


def evaluation_create(
    *,
    organization: Organization,
    user,
    dataset: Any,
    messages: Any = None,
    models: Any,
    metrics: Any = None,
    name: Any = None,
    prompt_version: Any = None,
    idempotency: tuple[str, str] | None = None,
) -> Evaluation:
    """Check everything (cheaply: one query reads the rows' values), then create the evaluation; its queued Runs,
    one per row x model, are made in one transaction (all or nothing) by evaluation_runs_create: at once up to
    INLINE_RUNS_MAX runs, else by a worker after this returns (the evaluation's status is "creating" until then).

    `dataset` is a Dataset's public id (UUID); `models` a list of {"model": alias, "parameters": {...}}; `metrics`
    Metrics' public ids.
    `prompt_version` (a saved prompt version's id) instead of `messages`: its messages, and its parameters under
    each model's own; the evaluation and every run record it. `idempotency` is (key, request digest), set by
    evaluation_create_once; a key already used raises IntegrityError and nothing is created.
    """
    errors: list[Problem] = []
    version = None
    if prompt_version is not None:
        version = prompt_version_get_by_id(organization=organization, version_id=prompt_version)
        if version is None:
            errors.append(Problem(("prompt_version",), "No such saved prompt version.", "not_found"))
        elif messages is not None:
            errors.append(Problem(("messages",), "Give messages or a prompt_version, not both.", "prompt_conflict"))
        else:
            messages = version.messages
    dataset_obj = dataset_get(organization=organization, dataset_id=dataset)
    if dataset_obj is None:
        errors.append(Problem(("dataset",), "Pick a dataset.", "unknown_dataset"))
    try:
        clean_name = name_clean(
            name, default=f"{dataset_obj.name} · {timezone.now():%Y-%m-%d %H:%M}" if dataset_obj else "Evaluation"
        )
    except Invalid as exc:
        errors += exc.errors
    try:
        validate_messages(messages)
    except Invalid as exc:
        if prompt_version is None:  # otherwise the prompt_version error says what is wrong
            errors += exc.errors
        messages = None
    columns = models_resolve(organization=organization, raw=models, errors=errors)
    if version is not None:
        base = prompt_version_parameters(version)
        columns = [(model, {**base, **parameters}) for model, parameters in columns]
    metric_list = metrics_resolve(organization=organization, raw=metrics, dataset=dataset_obj, errors=errors)
    row_count = 0
    if dataset_obj is not None:
        row_count = dataset_obj.row_count
        if messages is not None:
            variables = message_variables(messages)
            # One query for the values the prompt needs, no model instance per row.
            rows = dataset_obj.rows.order_by("index").values_list("index", "values") if variables else []
            errors += rows_check(variables=variables, dataset=dataset_obj, rows=rows)
        if columns and row_count * len(columns) > MAX_RUNS:
            errors.append(
                Problem(
                    ("models",),
                    f"{row_count} rows x {len(columns)} models is more than {MAX_RUNS} runs.",
                    "too_many_runs",
                )
            )
    if errors:
        raise Invalid(errors)

    project = default_project(organization=organization)
    with transaction.atomic():
        _metrics_lock_current(metric_list=metric_list, raw=metrics)
        if version is not None:
            prompt_version_use(version_id=version.pk)
        job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION, project=project)
        judge_job = job_create(organization=organization, user=user, kind=Job.Kind.EVALUATION, project=project)
        evaluation = Evaluation.objects.create(
            organization=organization,
            name=clean_name,
            created_by=user,
            dataset=dataset_obj,
            messages=messages,
            prompt_version=version,
            model_columns=[{"alias": model.alias, "parameters": parameters} for model, parameters in columns],
            judges_per_output=sum(metric.judges for metric in metric_list),
            job=job,
            judge_job=judge_job,
            total_runs=row_count * len(columns),
            idempotency_key=idempotency[0] if idempotency else None,
            request_digest=idempotency[1] if idempotency else "",
        )
        evaluation.metrics.set(metric_list)
        EvaluationCounters.objects.create(evaluation=evaluation)
        evaluation_id = str(evaluation.pk)
        if evaluation.total_runs <= INLINE_RUNS_MAX:
            evaluation_runs_create(evaluation_id=evaluation_id)
            evaluation.refresh_from_db(fields=["runs_created_at"])
        else:
            transaction.on_commit(lambda: _schedule_runs_create(evaluation_id))
    return evaluation


def _metrics_lock_current(*, metric_list: list[Metric], raw: list) -> None:
    """Lock the evaluation's metric versions until the transaction ends, and check that each is still current.

    A delete or an edit of one of them that commits between evaluation_create's checks and this lock is an Invalid
    at ("metrics", i) (`i` the metric's place in `raw`, the request's list of ids) rather than a broken foreign key;
    one that comes after the lock waits for this evaluation, and then sees that the evaluation uses the version
    (metric_delete refuses, metric_update keeps it). On PostgreSQL the lock is shared (FOR SHARE), so evaluations
    created at once with the same metric do not wait for each other.
    """
    if not metric_list:
        return
    pks = sorted(metric.pk for metric in metric_list)
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        table, pk = quote(Metric._meta.db_table), quote(Metric._meta.pk.column)
        replaced_at = quote(Metric._meta.get_field("replaced_at").column)
        with connection.cursor() as cursor:
            # Identifiers come from the model's metadata, the values are parameters.
            cursor.execute(
                f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s) AND {replaced_at} IS NULL "  # noqa: S608
                f"ORDER BY {pk} FOR SHARE",
                [pks],
            )
            live = {row[0] for row in cursor.fetchall()}
    else:
        live = set(
            Metric.objects.select_for_update().filter(pk__in=pks, replaced_at__isnull=True).values_list("pk", flat=True)
        )
    errors = []
    for metric in metric_list:
        if metric.pk in live:
            continue
        index = next(index for index, value in enumerate(raw) if public_id(value) == metric.uuid)
        current = Metric.objects.filter(lineage=metric.lineage, replaced_at__isnull=True).first()
        if current is None:
            message, type_ = (
                f'The metric "{metric.name}" was deleted while this evaluation was being created.',
                ("unknown_metric"),
            )
        else:
            message, type_ = (
                f'The metric "{metric.name}" was edited while this evaluation was being created: v{current.version} '
                f"(id {current.uuid}) is current; start with it.",
                "metric_replaced",
            )
        errors.append(Problem(("metrics", index), message, type_))
    if errors:
        raise Invalid(errors)


def _schedule_runs_create(evaluation_id: str) -> None:
    from evaluations.tasks import create_evaluation_runs

    create_evaluation_runs.delay(evaluation_id)


def evaluation_runs_create(*, evaluation_id) -> bool:
    """Make a new evaluation's runs: one queued Run and EvaluationResult per row x model, in one transaction, then
    hand them to the workers. True if this call made them.

    Runs on a worker (evaluations.tasks.create_evaluation_runs) so that creating a 20,000-run evaluation answers at
    once. Idempotent: the evaluation's row is locked and `runs_created_at` set in the same transaction, so a task
    delivered twice makes the runs once. An evaluation cancelled while it was being created gets no runs and is
    finished. One whose model was removed in between gets no runs and is finished as cancelled.
    """
    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update(of=("self",))
            .select_related("organization", "dataset", "created_by")
            .filter(pk=evaluation_id)
            .first()
        )
        if evaluation is None or evaluation.runs_created_at or evaluation.finished_at:
            return False
        if evaluation.cancelled_at:
            Evaluation.objects.filter(pk=evaluation.pk).update(finished_at=timezone.now())
            return False
        columns = [
            (model_get(organization=evaluation.organization, alias=entry["alias"]), entry["parameters"] or {})
            for entry in evaluation.model_columns
        ]
        if any(model is None for model, _ in columns):
            Evaluation.objects.filter(pk=evaluation.pk).update(
                runs_created_at=timezone.now(), finished_at=timezone.now(), cancelled_at=timezone.now()
            )
            return False
        version_id = evaluation.prompt_version_id
        specs, pairs = [], []
        for row_id, values in evaluation.dataset.rows.order_by("index").values_list("pk", "values"):
            rendered = messages_render(evaluation.messages, values)
            for model, parameters in columns:
                specs.append(
                    RunSpec(model=model, messages=rendered, parameters=parameters, prompt_version_id=version_id)
                )
                pairs.append((row_id, model.alias))
        runs = runs_enqueue_bulk(specs=specs, user=evaluation.created_by, job=evaluation.job, publish=False)
        EvaluationResult.objects.bulk_create(
            [
                EvaluationResult(evaluation=evaluation, row_id=row_id, model_alias=alias, run=run)
                for (row_id, alias), run in zip(pairs, runs, strict=True)
            ],
            batch_size=1000,
        )
        Evaluation.objects.filter(pk=evaluation.pk).update(runs_created_at=timezone.now(), total_runs=len(runs))
        transaction.on_commit(lambda: _schedule_dispatch(str(evaluation_id)))
    return True


def evaluations_creation_resume(*, older_than: float | None = None) -> int:
    """Send create_evaluation_runs again for evaluations still `creating` (no runs, not finished) `older_than`
    seconds after they were created (default EVALUATIONS_CREATING_LOST_AFTER_SECONDS): their message was lost (a
    broker connection dropped while publishing, a purged queue). At most once per that period per evaluation (a
    cache key), and harmless if the first message was only late: evaluation_runs_create locks the evaluation and
    makes the runs only while `runs_created_at` is unset. Returns how many were sent again. Called by every
    reaper pass (runners.signals.reaper_pass, evaluations.receivers)."""
    seconds = settings.EVALUATIONS_CREATING_LOST_AFTER_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=seconds)
    stuck = Evaluation.objects.filter(runs_created_at__isnull=True, finished_at__isnull=True, created_at__lte=cutoff)
    resent = []
    for evaluation_id in stuck.order_by("created_at").values_list("pk", flat=True)[:RESUME_BATCH]:
        if cache.add(f"evaluations:creation-resent:{evaluation_id}", 1, timeout=max(int(seconds), 1)):
            _schedule_runs_create(str(evaluation_id))
            resent.append(str(evaluation_id))
    if resent:
        logger.warning("sent the creation of %d evaluation(s) again (still creating): %s", len(resent), resent)
    return len(resent)


def _schedule_dispatch(evaluation_id: str) -> None:
    # One message now; a worker fans out the runs (publishing hundreds of messages takes seconds).
    from evaluations.tasks import dispatch_evaluation

    dispatch_evaluation.delay(evaluation_id)


def evaluation_dispatch(*, evaluation: Evaluation, since: str | None = None) -> int:
    """Hand every queued output run to execute_run (by id), then start advancing the evaluation (`since`: when a
    re-run started, for the safety net's give-up time; tasks.advance_evaluation).

    Idempotent: a run sent twice is executed once (the worker's claim is a conditional UPDATE from queued),
    and a cancelled run is no longer queued.
    """
    from evaluations.tasks import advance_evaluation

    published = runs_publish_queued(job=evaluation.job)
    advance_evaluation.delay(str(evaluation.pk), since)
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
        judges_enqueue(evaluation=evaluation)
    outputs_count(evaluation_id=evaluation.pk)
    scores_record(scores=MetricScore.objects.filter(result__evaluation=evaluation))
    return _finish_if_done(evaluation)


def run_finished_advance(*, run_id: str, status: str, job_id: str | None, work_class: str | None = None) -> None:
    """Advance what a finished run moves on (the receiver of runners.signals.run_finished, on the worker).

    A succeeded output of an evaluation gets its judge runs; a finished judge run (of an evaluation or of a run
    scored on its own) records its score once all judges of that score have answered; the evaluation finishes
    when nothing is left to do. An interactive run (`work_class`, the Playground, a Test, an API run) is neither an
    output nor a judge: it costs nothing here; a run of any other job two small queries.
    """
    if job_id is None or work_class == WorkClass.INTERACTIVE:
        return
    evaluation = Evaluation.objects.filter(Q(job_id=job_id) | Q(judge_job_id=job_id)).first()
    if evaluation is None or str(evaluation.judge_job_id) == str(job_id):
        recorded = scores_record(scores=MetricScore.objects.filter(judge_runs__run_id=run_id))
        if evaluation is None or not recorded:
            return
    else:
        outputs_count(evaluation_id=evaluation.pk, run_id=run_id)
        if status == RunStatus.SUCCEEDED and not evaluation.cancelled_at and not evaluation.finished_at:
            judges_enqueue(evaluation=evaluation, run_id=run_id)
    if not evaluation.finished_at:
        _finish_if_done(evaluation)


def _finish_if_done(evaluation: Evaluation) -> bool:
    if not evaluation.runs_created_at:
        return False  # evaluation_runs_create finishes one cancelled before its runs exist
    # The counters first: while outputs or judges are outstanding (nearly every call) one row read answers.
    counts = EvaluationCounters.objects.filter(pk=evaluation.pk).values(*COUNTERS).first()
    outputs = counts["outputs_succeeded"] + counts["outputs_failed"] + counts["outputs_cancelled"]
    judged = sum(counts[name] for name in JUDGE_COUNTERS.values())
    if outputs < evaluation.total_runs or judged < counts["judges_created"]:
        return False
    busy = Run.objects.filter(
        job_id__in=(evaluation.job_id, evaluation.judge_job_id), status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    ).exists()
    if busy:
        return False
    if MetricScore.objects.filter(result__evaluation=evaluation, status=ScoreStatus.PENDING).exists():
        return False
    if (
        evaluation_scored(evaluation)
        and not evaluation.cancelled_at
        and EvaluationResult.objects.filter(
            evaluation=evaluation, judge_claim__isnull=True, run__status=RunStatus.SUCCEEDED
        ).exists()
    ):
        return False
    Evaluation.objects.filter(pk=evaluation.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    evaluation.refresh_from_db(fields=["finished_at", "cancelled_at"])
    return True
