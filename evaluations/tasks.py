"""Background step of an evaluation: enqueue judges for finished outputs, record scores, notice the end."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

ADVANCE_INTERVAL_SECONDS = 1.0
# Past this age the task stops polling (runs stuck for a day are the reaper's business); the page still advances.
GIVE_UP_AFTER = timedelta(hours=24)


@shared_task(name="evaluations.advance_evaluation", ignore_result=True)
def advance_evaluation(evaluation_id: str) -> None:
    """Advance once, then again a moment later until the evaluation is finished.

    The progress endpoint advances too, so a lost message only slows an evaluation whose page is open.
    """
    from evaluations.models import Evaluation
    from evaluations.services import evaluation_advance

    evaluation = Evaluation.objects.filter(pk=evaluation_id).first()
    if evaluation is None:
        return
    finished = evaluation_advance(evaluation=evaluation)
    # Eagerly executed tasks (tests, CELERY_TASK_ALWAYS_EAGER) have run by now: nothing to wait for.
    if finished or settings.CELERY_TASK_ALWAYS_EAGER or timezone.now() - evaluation.created_at > GIVE_UP_AFTER:
        return
    advance_evaluation.apply_async((evaluation_id,), countdown=ADVANCE_INTERVAL_SECONDS)


@shared_task(name="evaluations.dispatch_evaluation", ignore_result=True)
def dispatch_evaluation(evaluation_id: str) -> None:
    """Fan out a new evaluation's runs to execute_run, then advance it."""
    from evaluations.models import Evaluation
    from evaluations.services import evaluation_dispatch

    evaluation = Evaluation.objects.filter(pk=evaluation_id).first()
    if evaluation is not None:
        evaluation_dispatch(evaluation=evaluation)
