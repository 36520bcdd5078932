"""Runs whose worker was lost (killed, crashed, host gone) are marked failed, so none stays `running` forever.

A live worker never keeps a run longer than RUNNERS_MAX_RUN_SECONDS; a run still
`running` after RUNNERS_LOST_AFTER_SECONDS has lost its worker. Its message is
redelivered by the broker after that time (the visibility timeout) and the worker
that receives it takes the run over and executes it. The reaper is the backstop
for runs whose message is gone too: it fails runs `running` for twice that time,
so that redelivery gets the first chance. A message can also be lost before any
worker took it (kombu's Redis transport pops a message before it records it as
unacknowledged, so a connection dropped in between loses it): when the broker's
queue is empty, runs still `queued` after RUNNERS_LOST_AFTER_SECONDS cannot have a
message waiting, so theirs is published again (at most once per that period; a
duplicate would be harmless anyway because only one claim can succeed).
Batch runs still waiting for their organisation's turn (runners.dispatch) have no message yet: they are not
republished but dispatched, in turn, by the same pass. A run deferred for its integration's limits (runners.limits)
is `queued` with `deferred_until` set and its message held by a worker until then: it is neither failed nor
republished before RUNNERS_LOST_AFTER_SECONDS past that time. The reaper runs when a worker starts, every
RUNNERS_REAP_INTERVAL seconds in each worker, and on demand with
`python manage.py reap_runs`. After each pass it sends runners.signals.reaper_pass, for the apps above runners to
repair what they own (evaluations: an evaluation left `creating` by a lost message).
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from runners.broker import broker_queue_depth
from runners.dispatch import runs_dispatch_batch, runs_publish
from runners.failures import FailureKind
from runners.models import Run, RunStatus, WorkClass
from runners.signals import reaper_pass

logger = logging.getLogger(__name__)

WORKER_LOST_MESSAGE = (
    "The worker running this run stopped (it was killed or crashed) and the run was not finished by another "
    "worker; it was not retried."
)


def runs_reap_lost(*, lost_after: float | None = None) -> int:
    """Mark failed the runs `running` for longer than `lost_after` seconds (default:
    RUNNERS_REAP_AFTER_SECONDS, twice RUNNERS_LOST_AFTER_SECONDS); returns how many."""
    default = settings.RUNNERS_REAP_AFTER_SECONDS or 2 * settings.RUNNERS_LOST_AFTER_SECONDS
    seconds = default if lost_after is None else lost_after
    now = timezone.now()
    reaped = Run.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - timedelta(seconds=seconds)).update(
        status=RunStatus.FAILED,
        error_type=FailureKind.WORKER_LOST,
        error_message=WORKER_LOST_MESSAGE,
        finished_at=now,
    )
    if reaped:
        logger.warning("reaped %d run(s) whose worker was lost", reaped)
    return reaped


REPUBLISH_BATCH = 1000


def _broker_queue_is_empty() -> bool:
    return broker_queue_depth() == 0


def runs_republish_stale(*, older_than: float | None = None) -> int:
    """Publish again the messages of runs `queued` for longer than `older_than` seconds (default:
    RUNNERS_LOST_AFTER_SECONDS) and not republished within that time, each with its class's priority; returns how
    many. Batch runs never published (waiting for their organisation's turn) are not stale: they have no message."""
    if not _broker_queue_is_empty():
        return 0  # a backlog is draining; its runs have messages waiting
    seconds = settings.RUNNERS_LOST_AFTER_SECONDS if older_than is None else older_than
    now = timezone.now()
    cutoff = now - timedelta(seconds=seconds)
    stale = (
        Run.objects.filter(status=RunStatus.QUEUED, created_at__lt=cutoff)
        .exclude(work_class=WorkClass.BATCH, published_at__isnull=True)
        .exclude(published_at__gte=cutoff)
        .exclude(deferred_until__gte=cutoff)  # deferred for capacity: its message waits in a worker until then
        .filter(Q(republished_at__isnull=True) | Q(republished_at__lt=cutoff))
    )
    with transaction.atomic():
        rows = list(stale.select_for_update(skip_locked=True).values_list("pk", "work_class")[:REPUBLISH_BATCH])
        run_ids = [str(pk) for pk, _ in rows]
        Run.objects.filter(pk__in=run_ids).update(republished_at=now)
        for work_class in WorkClass:
            of_class = [str(pk) for pk, kind in rows if kind == work_class]
            transaction.on_commit(
                lambda of_class=of_class, work_class=work_class: runs_publish(of_class, work_class=work_class)
            )
    if run_ids:
        logger.warning("published %d queued run(s) again (their message was late or lost)", len(run_ids))
    return len(run_ids)


def reap_pass() -> dict[str, int]:
    """One pass: fail the lost runs, publish again the stale ones, dispatch batch runs in turn, then send
    reaper_pass. Returns how many runs each step handled; a receiver that raises is logged and skipped."""
    handled = {
        "reaped": runs_reap_lost(),
        "republished": runs_republish_stale(),
        "dispatched": runs_dispatch_batch(),
    }
    for receiver, result in reaper_pass.send_robust(sender=None):
        if isinstance(result, Exception):
            name = getattr(receiver, "__qualname__", repr(receiver))
            logger.warning("reaper_pass receiver %s failed: %s", name, type(result).__name__)
    return handled


def start_periodic_reaper(interval: float) -> threading.Event:
    """Reap now and then every `interval` seconds in a daemon thread; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                reap_pass()
            except Exception as exc:  # the database may be briefly unavailable; try again next time
                logger.warning("reaper pass failed: %s", type(exc).__name__)
            finally:
                connection.close()
            if stop.wait(interval):
                return

    threading.Thread(target=loop, name="runners-reaper", daemon=True).start()
    return stop
