"""Re-run what failed in an evaluation, in place: its failed outputs, or its failed judges.

After a provider's bad hour an evaluation has outputs whose run failed (an error, not a cancel) or judges whose run
failed or answered no verdict. Re-running them keeps the evaluation and its rows: each failed output gets a new run
in the evaluation's job (the earlier run stays readable as an OutputAttempt, and the result's `attempt` goes up),
each failed judge a new judge run of the same score and index (the earlier one is kept, `superseded`). The
evaluation is running again until the new runs have finished and been advanced like any other (judges for the
outputs that now succeed, scores recorded, the evaluation finished), so the summary follows.

The progress counters describe each output's and judge's current attempt: a re-run takes what it replaces out of
them (counters.reruns_uncount) in the transaction that replaces it, and the new runs are counted as any run is.
Only a finished, not cancelled, evaluation is re-run, under a lock on its row: a second request at the same time
(a double submit) finds it running and is refused.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.problems import Invalid, Problem
from evaluations.judging import judge_parameters
from evaluations.models import (
    Evaluation,
    EvaluationCounters,
    EvaluationResult,
    JudgeOutcome,
    JudgeRun,
    MetricScore,
    OutputAttempt,
    ScoreStatus,
)
from evaluations.selectors import Progress
from evaluations.services.counters import FAILED, reruns_uncount
from evaluations.services.scoring import result_judge_messages
from integrations.selectors import model_get
from runners.models import WorkClass
from runners.services import RunSpec, runs_enqueue_bulk

OUTPUTS, JUDGES = "outputs", "judges"
RERUN_SCOPES = (OUTPUTS, JUDGES)
# What a judge run came to that a re-run can change (a cancelled judge belongs to a cancelled evaluation).
FAILED_JUDGE_OUTCOMES = (JudgeOutcome.RUN_FAILED, JudgeOutcome.UNUSABLE)


class RerunRefused(Exception):
    """The evaluation cannot be re-run now: it is still running, it was cancelled, or nothing failed. The message
    says which, for people."""


@dataclass(frozen=True)
class Rerunnable:
    """What a re-run would start: failed outputs and failed judge runs (their current attempts)."""

    outputs: int
    judges: int
    # Why nothing can be re-run now (None when something can).
    reason: str | None

    def as_dict(self) -> dict:
        return {"outputs": self.outputs, "judges": self.judges, "reason": self.reason}


def evaluation_rerunnable(*, evaluation: Evaluation, progress: Progress | None = None) -> Rerunnable:
    """Failed outputs and failed judges that a re-run would start, from the counters: those of `progress` when the
    caller has read it (no query), else one small query."""
    if progress is not None:
        outputs = progress.failed - progress.cancelled
        judges = progress.judges_run_failed + progress.judges_unusable
    else:
        counts = EvaluationCounters.objects.filter(pk=evaluation.pk).values(
            "outputs_failed", "judges_run_failed", "judges_unusable"
        ).first() or {"outputs_failed": 0, "judges_run_failed": 0, "judges_unusable": 0}
        outputs, judges = counts["outputs_failed"], counts["judges_run_failed"] + counts["judges_unusable"]
    return Rerunnable(outputs=outputs, judges=judges, reason=_refusal(evaluation, outputs + judges))


def _refusal(evaluation: Evaluation, failed: int) -> str | None:
    if evaluation.cancelled_at:
        return "A cancelled evaluation is not re-run; start a new one."
    if not evaluation.finished_at:
        return "It is still running; re-run what failed once it has finished."
    if not failed:
        return "Nothing failed: there is nothing to re-run."
    return None


def evaluation_rerun(*, evaluation: Evaluation, scope: str) -> int:
    """Re-run the evaluation's failed outputs (`scope` "outputs") or failed judges ("judges") in place; returns how
    many runs were started.

    Raises Invalid at ("scope",) for another scope or when a model the re-run needs no longer exists (nothing is
    changed), RerunRefused when the evaluation is running, cancelled or has nothing failed (also the second of two
    requests at once: the first has made it running). The new runs go to the workers once this commits.
    """
    if scope not in RERUN_SCOPES:
        raise Invalid([Problem(("scope",), 'Either "outputs" or "judges".', "enum")])
    with transaction.atomic():
        locked = (
            Evaluation.objects.select_for_update(of=("self",))
            .select_related("organization", "created_by")
            .get(pk=evaluation.pk)
        )
        refusal = _refusal(locked, 1)
        if refusal:
            raise RerunRefused(refusal)
        started = _outputs_rerun(locked) if scope == OUTPUTS else _judges_rerun(locked)
        if not started:
            raise RerunRefused(f"No {scope} failed: there is nothing to re-run.")
        Evaluation.objects.filter(pk=locked.pk).update(finished_at=None)
        evaluation_id = str(locked.pk)
        transaction.on_commit(lambda: _schedule(evaluation_id, dispatch=scope == OUTPUTS))
    evaluation.refresh_from_db(fields=["finished_at", "cancelled_at"])
    return started


def _schedule(evaluation_id: str, *, dispatch: bool) -> None:
    from evaluations.tasks import advance_evaluation, dispatch_evaluation

    # Output runs go out in the organisation's turn (dispatch_evaluation also starts the safety net); judge runs
    # were published as they were created. The safety net counts its day from now, not from the creation.
    since = timezone.now().isoformat()
    (dispatch_evaluation if dispatch else advance_evaluation).delay(evaluation_id, since)


def _missing_model(alias: str, what: str) -> Invalid:
    return Invalid(
        [Problem(("scope",), f'The model "{alias}" no longer exists, so its {what} cannot be re-run.', "unknown_model")]
    )


def _outputs_rerun(evaluation: Evaluation) -> int:
    results = list(
        EvaluationResult.objects.filter(evaluation=evaluation, counted_as=FAILED).select_related("run").order_by("pk")
    )
    if not results:
        return 0
    columns = {entry["alias"]: entry["parameters"] or {} for entry in evaluation.model_columns}
    models = {alias: model_get(organization=evaluation.organization, alias=alias) for alias in columns}
    for result in results:
        if models.get(result.model_alias) is None:
            raise _missing_model(result.model_alias, "failed outputs")
    specs = [
        RunSpec(
            model=models[result.model_alias],
            messages=result.run.messages,
            parameters=columns[result.model_alias],
            prompt_version_id=evaluation.prompt_version_id,
        )
        for result in results
    ]
    runs = runs_enqueue_bulk(specs=specs, user=evaluation.created_by, job=evaluation.job, publish=False)
    OutputAttempt.objects.bulk_create(
        [OutputAttempt(result=result, run_id=result.run_id, number=result.attempt) for result in results]
    )
    for result, run in zip(results, runs, strict=True):
        result.run, result.attempt, result.counted_as, result.judge_claim = run, result.attempt + 1, None, None
    EvaluationResult.objects.bulk_update(results, ["run", "attempt", "counted_as", "judge_claim"], batch_size=500)
    reruns_uncount(evaluation_id=evaluation.pk, outputs_failed=len(results))
    return len(runs)


def _judges_rerun(evaluation: Evaluation) -> int:
    failed = list(
        JudgeRun.objects.filter(
            score__result__evaluation=evaluation, superseded=False, outcome__in=FAILED_JUDGE_OUTCOMES
        )
        .select_related("score__metric", "score__result__run", "score__result__row")
        .order_by("pk")
    )
    if not failed:
        return 0
    metrics = {judge_run.score.metric_id: judge_run.score.metric for judge_run in failed}
    models = {pk: model_get(organization=evaluation.organization, alias=m.judge_model) for pk, m in metrics.items()}
    for pk, metric in metrics.items():
        if models[pk] is None:
            raise _missing_model(metric.judge_model, f'failed judges of "{metric.name}"')
    specs = []
    for judge_run in failed:
        metric, model = judge_run.score.metric, models[judge_run.score.metric_id]
        parameters = judge_parameters(parameters=metric.parameters, supported_parameters=model.supported_parameters)
        messages = result_judge_messages(metric=metric, result=judge_run.score.result)
        specs.append(RunSpec(model=model, messages=messages, parameters=parameters))
    JudgeRun.objects.filter(pk__in=[judge_run.pk for judge_run in failed]).update(superseded=True)
    runs = runs_enqueue_bulk(
        specs=specs, user=evaluation.created_by, job=evaluation.judge_job, work_class=WorkClass.JUDGE
    )
    JudgeRun.objects.bulk_create(
        [
            JudgeRun(score_id=judge_run.score_id, index=judge_run.index, attempt=judge_run.attempt + 1, run=run)
            for judge_run, run in zip(failed, runs, strict=True)
        ]
    )
    # Their scores are recorded again once the new judges have answered (with the judges that were kept).
    MetricScore.objects.filter(pk__in={judge_run.score_id for judge_run in failed}).update(
        status=ScoreStatus.PENDING, mean=None, error="", judgements=[]
    )
    reruns_uncount(evaluation_id=evaluation.pk, judge_outcomes=Counter(judge_run.outcome for judge_run in failed))
    return len(runs)
