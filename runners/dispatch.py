"""Which run a worker takes next: classes of work in order, and batch runs shared fairly between organisations.

Classes (Run.work_class). Every run message goes to the one runs queue (RUNNERS_QUEUE) with a priority for its
class: interactive 0, judge 3, batch 6. kombu's Redis transport keeps one list per priority step
(`priority_steps`, [0, 3, 6, 9]) and a worker's BRPOP names them lowest step first, so a worker with a free slot
takes an interactive message before any judge's and a judge's before any batch output's. With
`worker_prefetch_multiplier` 1 a worker reserves no more messages than it has slots (threads), so an interactive
run waits for a free slot, never behind the batch. One queue, not three: `celery worker` with no `-Q` (as Celery's
guides start it) and RUNNERS_QUEUE keep working, and the broker's queue depth (kombu sums the priority lists) stays
one number. The embedded filesystem broker has no priorities: there runs are served in publishing order, and the
batch window below bounds what an interactive run can wait behind.

Fairness. Batch runs are not all handed to the broker at once: each organisation has at most
RUNNERS_BATCH_WINDOW batch runs published and not finished (queued with a message, or running). When a batch run
finishes, its worker publishes the next ones (oldest first) of every organisation with room, interleaved one per
organisation; the reaper does the same as a backstop. So an organisation's 20,000 runs occupy at most a window in
the broker, and another organisation's 50 are published behind at most that many, whatever arrived first. Per
organisation queues would need a worker to learn of new queues at run time (Celery consumes a fixed list); the
window needs no broker feature and works on the filesystem broker too. Two workers finishing at the same moment
may each publish into the same room: the window can be exceeded by the number of runs finishing at once (rows
being published are locked, SKIP LOCKED, so no run is published twice by this).
"""

import logging
from itertools import chain, zip_longest

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from runners.models import Run, RunStatus, WorkClass

logger = logging.getLogger(__name__)

# kombu Redis: priority 0 is served first (the lowest of its `priority_steps`).
PRIORITY = {WorkClass.INTERACTIVE: 0, WorkClass.JUDGE: 3, WorkClass.BATCH: 6}


def runs_publish(run_ids: list[str], *, work_class: WorkClass) -> None:
    """Hand these runs' ids to execute_run with their class's priority (no database write)."""
    from runners.tasks import execute_run

    if not run_ids:
        return
    priority = PRIORITY[WorkClass(work_class)]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for run_id in run_ids:
            execute_run.apply_async((run_id,), priority=priority)
        return
    # One broker connection for the whole batch instead of one per message.
    with execute_run.app.producer_or_acquire() as producer:
        for run_id in run_ids:
            execute_run.apply_async((run_id,), producer=producer, priority=priority)


def _window() -> int | None:
    # Eagerly executed runs (tests, CELERY_TASK_ALWAYS_EAGER) finish inside the publish: a window would recurse.
    return None if settings.CELERY_TASK_ALWAYS_EAGER else settings.RUNNERS_BATCH_WINDOW


def runs_dispatch_batch() -> int:
    """Publish waiting batch runs, oldest first, until each organisation has RUNNERS_BATCH_WINDOW of them published
    and unfinished, interleaved one per organisation; returns how many were published.

    Safe to call from any number of workers at once (rows being published are locked and skipped by the others).
    """
    batch = Run.objects.filter(work_class=WorkClass.BATCH, status=RunStatus.QUEUED)
    waiting = batch.filter(published_at__isnull=True)
    window = _window()
    rounds: list[list[str]] = []
    with transaction.atomic():
        organizations = list(waiting.order_by().values_list("organization_id", flat=True).distinct())
        if not organizations:
            return 0
        in_flight = dict(
            Run.objects.filter(
                organization_id__in=organizations,
                work_class=WorkClass.BATCH,
                status__in=(RunStatus.QUEUED, RunStatus.RUNNING),
                published_at__isnull=False,
            )
            .order_by()
            .values("organization_id")
            .annotate(count=Count("pk"))
            .values_list("organization_id", "count")
        )
        for organization_id in organizations:
            room = None if window is None else window - in_flight.get(organization_id, 0)
            if room is not None and room <= 0:
                continue
            mine = waiting.filter(organization_id=organization_id).order_by("created_at")
            ids = mine.select_for_update(skip_locked=True).values_list("pk", flat=True)
            rounds.append([str(pk) for pk in (ids if room is None else ids[:room])])
        run_ids = [run_id for run_id in chain.from_iterable(zip_longest(*rounds)) if run_id is not None]
        if not run_ids:
            return 0
        Run.objects.filter(pk__in=run_ids).update(published_at=timezone.now())
    # Waiting runs were committed before (by runs_enqueue_bulk): their ids can go out at once, inside a caller's
    # transaction too (a duplicate message is harmless: only one claim succeeds).
    runs_publish(run_ids, work_class=WorkClass.BATCH)
    return len(run_ids)


def runs_dispatch_after(run: Run) -> None:
    """After a run finished on a worker: a finished batch run makes room for the next (see the module's doc).

    Never raises: a failure here is only logged, the reaper dispatches on its next pass.
    """
    if run.work_class != WorkClass.BATCH or _window() is None:
        return
    try:
        runs_dispatch_batch()
    except Exception as exc:
        logger.warning("batch dispatch after run %s failed (%s); the reaper will dispatch", run.pk, type(exc).__name__)
