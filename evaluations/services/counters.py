"""An evaluation's progress counters, kept as its runs finish so that a progress poll reads one row.

Derived idempotently, not counted by whoever happens to see a run finish: an output run is counted by the caller
whose conditional UPDATE sets its result's `counted_as` (from NULL), and that caller adds it to the evaluation's
counters (EvaluationCounters) with F() expressions in the same transaction. A run_finished signal delivered
twice, the periodic safety net and a cancel may all try to count the same run at once; exactly one of them wins
the UPDATE, and if its transaction rolls back, neither the mark nor the increment stays. The runners store a
run's outcome (and send run_finished) in their own transaction, which evaluations cannot join (runners sit below
evaluations), so "increment in the run's own transaction" is not available; counting from the stored outcome is.

Judge runs are counted where they change state in evaluations' own transactions: `judges_created` with their
creation (scoring.judges_enqueue), the outcome counters with the conditional UPDATE that records their score
(scoring.scores_record).
"""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from evaluations.models import EvaluationCounters, EvaluationResult, JudgeOutcome
from evaluations.services.common import CANCELLED
from runners.models import RunStatus

SUCCEEDED, FAILED = "succeeded", "failed"

# counted_as -> (the runs it matches, the Evaluation counter it adds to)
_OUTCOMES = {
    SUCCEEDED: (Q(run__status=RunStatus.SUCCEEDED), "outputs_succeeded"),
    FAILED: (Q(run__status=RunStatus.FAILED) & ~Q(run__error_type=CANCELLED), "outputs_failed"),
    CANCELLED: (Q(run__status=RunStatus.FAILED, run__error_type=CANCELLED), "outputs_cancelled"),
}

JUDGE_COUNTERS = {
    JudgeOutcome.SCORED: "judges_scored",
    JudgeOutcome.UNUSABLE: "judges_unusable",
    JudgeOutcome.RUN_FAILED: "judges_run_failed",
    JudgeOutcome.CANCELLED: "judges_cancelled",
}


def outputs_count(*, evaluation_id, run_id=None) -> int:
    """Count the evaluation's finished output runs not counted yet (only that of `run_id` if given).

    Returns how many this call counted. Three conditional UPDATEs at most, whatever the evaluation's size: the
    receiver of one run's run_finished passes `run_id` (an index lookup); the safety net and a cancel pass none.
    """
    counted = 0
    for outcome, (matches, counter) in _OUTCOMES.items():
        pending = EvaluationResult.objects.filter(evaluation_id=evaluation_id, counted_as__isnull=True).filter(matches)
        if run_id is not None:
            pending = pending.filter(run_id=run_id)
        with transaction.atomic():
            claimed = EvaluationResult.objects.filter(pk__in=pending.values("pk"), counted_as__isnull=True).update(
                counted_as=outcome
            )
            if claimed:
                changes = {counter: F(counter) + claimed}
                if outcome != CANCELLED:
                    changes["last_output_at"] = timezone.now()
                EvaluationCounters.objects.filter(pk=evaluation_id).update(**changes)
        counted += claimed
    return counted


def judges_created_add(*, evaluation_id, count: int) -> None:
    """Add judge runs just created (call inside the transaction that creates them)."""
    if count:
        EvaluationCounters.objects.filter(pk=evaluation_id).update(judges_created=F("judges_created") + count)


def judge_outcomes_add(*, evaluation_id, outcomes: dict[str, int]) -> None:
    """Add the judge runs of a score just recorded, by JudgeOutcome (call inside the transaction that records it)."""
    changes = {JUDGE_COUNTERS[outcome]: F(JUDGE_COUNTERS[outcome]) + n for outcome, n in outcomes.items() if n}
    if changes:
        EvaluationCounters.objects.filter(pk=evaluation_id).update(**changes)


def reruns_uncount(*, evaluation_id, outputs_failed: int = 0, judge_outcomes: dict[str, int] | None = None) -> None:
    """Take out of the counters what a re-run replaces (call inside the transaction that replaces it): failed
    outputs whose result goes back to queued, and judge runs, by JudgeOutcome, that are superseded. The counters
    describe each output's and judge's current attempt, so a re-run's new runs are counted again as they finish
    (outputs) or were counted as created in place of the replaced ones (judges: `judges_created` is unchanged)."""
    changes = {
        JUDGE_COUNTERS[outcome]: F(JUDGE_COUNTERS[outcome]) - n for outcome, n in (judge_outcomes or {}).items() if n
    }
    if outputs_failed:
        changes["outputs_failed"] = F("outputs_failed") - outputs_failed
    if changes:
        EvaluationCounters.objects.filter(pk=evaluation_id).update(**changes)
