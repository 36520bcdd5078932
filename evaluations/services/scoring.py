"""LLM-as-judge scoring: judge runs for succeeded outputs, and scores recorded from the judges' answers.

An evaluation's outputs are judged with its metrics (judges_enqueue, called as outputs finish); any succeeded run
can be judged on its own (run_scores_request: a Playground comparison's columns, an API run). Either way each
metric on each output is one MetricScore with N JudgeRuns, recorded by scores_record once all N have finished.
"""

import uuid
from typing import Any

from django.db import IntegrityError, connection, transaction

from core.problems import Invalid, Problem
from evaluations.code_metrics import CodeCheckError, code_columns, code_score
from evaluations.judging import (
    RESERVED_VARIABLES,
    VerdictInvalid,
    judge_messages,
    judge_parameters,
    parse_verdict,
    prompt_variables,
    render_input,
    render_output,
)
from evaluations.models import (
    Evaluation,
    EvaluationResult,
    JudgeOutcome,
    JudgeRun,
    Metric,
    MetricKind,
    MetricScore,
    ScoreStatus,
)
from evaluations.selectors import run_scores_get, valid_uuids
from evaluations.services.common import CANCELLED
from evaluations.services.counters import judge_outcomes_add, judges_created_add
from integrations.selectors import model_get
from organizations.models import Organization
from runners.models import Job, Run, RunStatus, WorkClass
from runners.services import RunSpec, job_create, runs_enqueue_bulk

MAX_JUDGED_RUNS = 16


def evaluation_scored(evaluation: Evaluation) -> bool:
    """Whether the evaluation's outputs get scores: it has judges, or code metrics."""
    return bool(evaluation.judges_per_output) or evaluation.metrics.filter(kind=MetricKind.CODE).exists()


def code_metric_score(score: MetricScore, *, metric: Metric, output: str | None, row: dict | None) -> MetricScore:
    """Fill in a code metric's score of one output (no judge run): scored with the check's verdict as its one
    judgement, or failed with the reason the check could not be made."""
    try:
        verdict = code_score(metric.code, output, row)
    except CodeCheckError as exc:
        score.status, score.mean, score.error = ScoreStatus.FAILED, None, str(exc)
        score.judgements = []
        return score
    score.status, score.mean, score.error = ScoreStatus.SCORED, verdict.score, ""
    score.judgements = [{"outcome": JudgeOutcome.SCORED.value, "score": verdict.score, "reason": verdict.reason}]
    return score


def judges_enqueue(*, evaluation: Evaluation, run_id: str | None = None) -> int:
    """Scores for each newly succeeded output (only that of `run_id` if given): code metrics scored at once, judge
    runs for LLM judges; the claim (a conditional UPDATE from NULL) makes them once only. Returns the judge runs
    made."""
    if not evaluation_scored(evaluation):
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
            if not _lock_against_cancel(evaluation):
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
                if not metric.is_code
            }
            scores, specs = [], []
            # Judges that cannot run (their model was deleted): counted as created and run_failed at once, so that
            # progress accounts for every judge an output should have (evaluation_progress_recount counts them too).
            unrunnable = 0
            for result in results:
                for metric in metrics:
                    score = MetricScore(result=result, scored_run=result.run, metric=metric)
                    if metric.is_code:
                        scores.append(
                            code_metric_score(score, metric=metric, output=result.run.output, row=result.row.values)
                        )
                        continue
                    model = judge_models[metric.pk]
                    if model is None:
                        score.status = ScoreStatus.FAILED
                        score.error = f'The judge model "{metric.judge_model}" no longer exists.'
                        failed = {"outcome": JudgeOutcome.RUN_FAILED, "error": score.error}
                        score.judgements = [dict(failed) for _ in range(metric.judges)]
                        unrunnable += metric.judges
                    scores.append(score)
            MetricScore.objects.bulk_create(scores)
            judge_links = []
            for score in scores:
                if score.status != ScoreStatus.PENDING:
                    continue
                metric = score.metric
                messages = result_judge_messages(metric=metric, result=score.result)
                model = judge_models[metric.pk]
                parameters = judge_parameters(
                    parameters=metric.parameters, supported_parameters=model.supported_parameters
                )
                for index in range(metric.judges):
                    specs.append(RunSpec(model=model, messages=messages, parameters=parameters))
                    judge_links.append((score, index))
            runs = runs_enqueue_bulk(
                specs=specs, user=evaluation.created_by, job=evaluation.judge_job, work_class=WorkClass.JUDGE
            )
            JudgeRun.objects.bulk_create(
                [
                    JudgeRun(score=score, index=index, run=run)
                    for (score, index), run in zip(judge_links, runs, strict=True)
                ]
            )
            judges_created_add(evaluation_id=evaluation.pk, count=len(runs) + unrunnable)
            judge_outcomes_add(evaluation_id=evaluation.pk, outcomes={JudgeOutcome.RUN_FAILED: unrunnable})
    except IntegrityError:
        # Another step created these scores first (the unique constraints are the last line of defence).
        return 0
    return len(specs)


def result_judge_messages(*, metric: Metric, result: EvaluationResult) -> list[dict]:
    """The messages a judge of `metric` is sent about an evaluation's output (its run and its row, loaded)."""
    return judge_messages(
        prompt=metric.prompt,
        input=render_input(result.run.messages),
        output=render_output(result.run.output, result.run.tool_calls),
        row=result.row.values,
    )


def _lock_against_cancel(evaluation: Evaluation) -> bool:
    """Lock the evaluation's row until the transaction ends; False if it is cancelled.

    This orders judge creation and a cancel (which updates that row): once a cancel has committed, no new judge is
    created, and a cancel that waited for the lock fails the new ones. On PostgreSQL the lock is shared (FOR SHARE),
    so the judges of outputs finishing at once are created in parallel and only a cancel waits.
    """
    if connection.vendor != "postgresql":
        live = Evaluation.objects.select_for_update().filter(pk=evaluation.pk, cancelled_at__isnull=True)
        return bool(list(live.values_list("pk", flat=True)))
    quote = connection.ops.quote_name
    table = quote(Evaluation._meta.db_table)
    pk, cancelled_at = quote(Evaluation._meta.pk.column), quote(Evaluation._meta.get_field("cancelled_at").column)
    with connection.cursor() as cursor:
        # Identifiers come from the model's metadata, the value is a parameter.
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE {pk} = %s AND {cancelled_at} IS NULL FOR SHARE",  # noqa: S608
            [evaluation.pk],
        )
        return cursor.fetchone() is not None


def scores_record(*, scores) -> int:
    """Parse the answers of scores whose judges have all finished; an unparsable answer is an error on that score.

    Only a score's current judge runs count (a re-run's replaced ones are `superseded`); the counters add the judge
    runs recorded for the first time (those of a re-run's score that were kept are counted already).
    """
    ready = (
        scores.filter(status=ScoreStatus.PENDING)
        .exclude(judge_runs__run__status__in=(RunStatus.QUEUED, RunStatus.RUNNING))
        .select_related("result")
        .prefetch_related("judge_runs__run")
    )
    recorded = 0
    for score in ready:
        judgements, valid, problems = [], [], []
        outcomes: dict[str, list[int]] = {}
        new_outcomes: dict[str, int] = {}
        for judge_run in score.judge_runs.all():
            if judge_run.superseded:
                continue
            judgement = _judgement(judge_run.run)
            judgements.append(judgement)
            outcomes.setdefault(judgement["outcome"], []).append(judge_run.pk)
            if judge_run.outcome is None:
                new_outcomes[judgement["outcome"]] = new_outcomes.get(judgement["outcome"], 0) + 1
            if "error" in judgement:
                problems.append(f"judge {judge_run.index + 1}: {judgement['error']}")
            else:
                valid.append(judgement["score"])
        if not judgements:
            continue  # its judge runs are not visible yet
        with transaction.atomic():
            updated = MetricScore.objects.filter(pk=score.pk, status=ScoreStatus.PENDING).update(
                status=ScoreStatus.SCORED if valid else ScoreStatus.FAILED,
                judgements=judgements,
                mean=sum(valid) / len(valid) if valid else None,
                error="; ".join(problems),
            )
            if updated:
                for outcome, pks in outcomes.items():
                    JudgeRun.objects.filter(pk__in=pks).update(outcome=outcome)
                if score.result is not None:
                    judge_outcomes_add(evaluation_id=score.result.evaluation_id, outcomes=new_outcomes)
        recorded += updated
    return recorded


def _judgement(run: Run) -> dict:
    """What one judge run came to: {"outcome", "score", "reason"} or {"outcome", "error"}, with "thinking" when the
    judge reasoned in a <think> block. Outcomes are JudgeOutcome's values."""
    if run.status != RunStatus.SUCCEEDED:
        if run.error_type == CANCELLED:
            return {"outcome": JudgeOutcome.CANCELLED, "error": "cancelled"}
        message = f"the judge run failed ({run.error_type}): {run.error_message or ''}".strip()
        return {"outcome": JudgeOutcome.RUN_FAILED, "error": message}
    try:
        verdict = parse_verdict(run.output, finish_reason=run.finish_reason)
    except VerdictInvalid as exc:
        judgement = {"outcome": JudgeOutcome.UNUSABLE, "error": str(exc)}
        if exc.thinking:
            judgement["thinking"] = exc.thinking
        return judgement
    judgement = {"outcome": JudgeOutcome.SCORED, "score": verdict.score, "reason": verdict.reason}
    if verdict.thinking:
        judgement["thinking"] = verdict.thinking
    return judgement


def run_scores_request(*, organization: Organization, user, metric: Metric, runs: Any) -> list[MetricScore]:
    """Score succeeded runs with a metric: N judge runs each, averaged as in an evaluation.

    Idempotent per (run, metric): asking again returns the existing score. Read the outcome with run_scores_get.
    """
    errors: list[Problem] = []
    if not isinstance(runs, list) or not runs or len(runs) > MAX_JUDGED_RUNS:
        raise Invalid([Problem(("runs",), f"A list of 1 to {MAX_JUDGED_RUNS} run ids.", "list_type")])
    found = {str(run.pk): run for run in Run.objects.filter(organization=organization, pk__in=valid_uuids(runs))}
    ordered: list[Run] = []
    for index, run_id in enumerate(runs):
        run = found.get(str(run_id))
        if run is None:
            errors.append(Problem(("runs", index), "No such run.", "not_found"))
        elif run.status != RunStatus.SUCCEEDED:
            errors.append(
                Problem(("runs", index), f"Only a succeeded run can be judged; this one is {run.status}.", "not_done")
            )
        elif run not in ordered:
            ordered.append(run)
    if metric.is_code:
        extra = code_columns(metric.code)
    else:
        extra = [name for name in prompt_variables(metric.prompt) if name not in RESERVED_VARIABLES]
    if extra:
        names = ", ".join("{{" + name + "}}" for name in extra)
        errors.append(
            Problem(("metric",), f"The metric uses {names}, which only a dataset row can fill.", "unknown_variable")
        )
    if metric.is_code:
        if errors:
            raise Invalid(errors)
        return _code_scores_request(organization=organization, metric=metric, runs=ordered)
    judge_model = model_get(organization=organization, alias=metric.judge_model)
    if judge_model is None:
        errors.append(
            Problem(("metric",), f'The judge model "{metric.judge_model}" no longer exists.', "unknown_model")
        )
    if errors:
        raise Invalid(errors)
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
                        prompt=metric.prompt,
                        input=render_input(run.messages),
                        output=render_output(run.output, run.tool_calls),
                        row={},
                    )
                    parameters = judge_parameters(
                        parameters=metric.parameters, supported_parameters=judge_model.supported_parameters
                    )
                    for index in range(metric.judges):
                        specs.append(RunSpec(model=judge_model, messages=messages, parameters=parameters))
                        links.append((score, index))
                judge_runs = runs_enqueue_bulk(specs=specs, user=user, job=job, work_class=WorkClass.JUDGE)
                JudgeRun.objects.bulk_create(
                    [
                        JudgeRun(score=score, index=index, run=run)
                        for (score, index), run in zip(links, judge_runs, strict=True)
                    ]
                )
        except IntegrityError:
            pass  # asked twice at once: the other request created them
    return run_scores_get(organization=organization, runs=[run.pk for run in ordered], metric=metric)


def _code_scores_request(*, organization: Organization, metric: Metric, runs: list[Run]) -> list[MetricScore]:
    """A code metric's scores of succeeded runs, made at once (no job, no judge run); existing ones are kept."""
    existing = {score.scored_run_id for score in MetricScore.objects.filter(scored_run__in=runs, metric=metric)}
    new = [
        code_metric_score(MetricScore(scored_run=run, metric=metric), metric=metric, output=run.output, row=None)
        for run in runs
        if run.pk not in existing
    ]
    if new:
        try:
            with transaction.atomic():
                MetricScore.objects.bulk_create(new)
        except IntegrityError:
            pass  # asked twice at once: the other request made them
    return run_scores_get(organization=organization, runs=[run.pk for run in runs], metric=metric)
