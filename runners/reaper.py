"""Runs whose worker was lost (killed, crashed, host gone) are marked failed, so none stays `running` forever.

A live worker never keeps a run longer than RUNNERS_MAX_RUN_SECONDS; a run still
`running` after RUNNERS_LOST_AFTER_SECONDS has lost its worker. Its message is
redelivered by the broker after that time (the visibility timeout) and the worker
that receives it takes the run over and executes it. The reaper is the backstop
for runs whose message is gone too: it fails runs `running` for twice that time,
so that redelivery gets the first chance. It runs when a worker starts, every
RUNNERS_REAP_INTERVAL seconds in each worker, and on demand with
`python manage.py reap_runs`.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from runners.models import Run, RunStatus

logger = logging.getLogger(__name__)

WORKER_LOST_MESSAGE = (
    "The worker running this run stopped (it was killed or crashed) and the run was not finished by another "
    "worker; it was not retried."
)


def runs_reap_lost(*, lost_after: float | None = None) -> int:
    """Mark failed the runs `running` for longer than `lost_after` seconds (default: twice
    RUNNERS_LOST_AFTER_SECONDS); returns how many."""
    seconds = 2 * settings.RUNNERS_LOST_AFTER_SECONDS if lost_after is None else lost_after
    now = timezone.now()
    reaped = Run.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - timedelta(seconds=seconds)).update(
        status=RunStatus.FAILED,
        error_type="worker_lost",
        error_message=WORKER_LOST_MESSAGE,
        finished_at=now,
    )
    if reaped:
        logger.warning("reaped %d run(s) whose worker was lost", reaped)
    return reaped


def start_periodic_reaper(interval: float) -> threading.Event:
    """Reap now and then every `interval` seconds in a daemon thread; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                runs_reap_lost()
            except Exception as exc:  # the database may be briefly unavailable; try again next time
                logger.warning("reaper pass failed: %s", type(exc).__name__)
            finally:
                connection.close()
            if stop.wait(interval):
                return

    threading.Thread(target=loop, name="runners-reaper", daemon=True).start()
    return stop
