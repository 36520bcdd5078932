"""Background steps of an evaluation: make its runs, fan them out, and a periodic safety net that advances it.

Evaluations advance as their runs finish (runners.signals.run_finished, see evaluations.services). The safety net
catches what sends no signal (runs reaped after a lost worker, a receiver that failed): a full step every
SAFETY_NET_INTERVAL_SECONDS until the evaluation is finished.
"""

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

SAFETY_NET_INTERVAL_SECONDS = 30.0
# Past this age the safety net stops (runs stuck for a day are the reaper's business).
GIVE_UP_AFTER = timedelta(hours=24)


@shared_task(name="evaluations.advance_evaluation", ignore_result=True)
def advance_evaluation(evaluation_id: str, since: str | None = None) -> None:
    """Advance once, then again after SAFETY_NET_INTERVAL_SECONDS until the evaluation is finished.

    `since` (ISO 8601) is when its current work started if not at its creation (a re-run of what failed): the safety
    net gives up GIVE_UP_AFTER that.
    """
    from evaluations.models import Evaluation
    from evaluations.services.lifecycle import evaluation_advance

    evaluation = Evaluation.objects.filter(pk=evaluation_id).first()
    if evaluation is None:
        return
    finished = evaluation_advance(evaluation=evaluation)
    started = max(evaluation.created_at, datetime.fromisoformat(since)) if since else evaluation.created_at
    # Eagerly executed tasks (tests, CELERY_TASK_ALWAYS_EAGER) have run by now: nothing to wait for.
    if finished or settings.CELERY_TASK_ALWAYS_EAGER or timezone.now() - started > GIVE_UP_AFTER:
        return
    advance_evaluation.apply_async((evaluation_id, since), countdown=SAFETY_NET_INTERVAL_SECONDS)


@shared_task(name="evaluations.dispatch_evaluation", ignore_result=True)
def dispatch_evaluation(evaluation_id: str, since: str | None = None) -> None:
    """Fan out an evaluation's queued output runs to execute_run, then start its safety net (`since`: see
    advance_evaluation)."""
    from evaluations.models import Evaluation
    from evaluations.services.lifecycle import evaluation_dispatch

    evaluation = Evaluation.objects.filter(pk=evaluation_id).first()
    if evaluation is not None:
        evaluation_dispatch(evaluation=evaluation, since=since)


@shared_task(name="evaluations.create_evaluation_runs", ignore_result=True)
def create_evaluation_runs(evaluation_id: str) -> None:
    """Make a new evaluation's runs (the request that created it answered at once), then dispatch them."""
    from evaluations.services.lifecycle import evaluation_runs_create

    evaluation_runs_create(evaluation_id=evaluation_id)


@shared_task(name="evaluations.refresh_results_summary", ignore_result=True)
def refresh_results_summary(evaluation_id: str) -> None:
    """Compute a running evaluation's results summary into the cache (evaluations.results), off the request path."""
    from evaluations.results import results_summaries_refresh

    results_summaries_refresh(evaluation_id=evaluation_id)
