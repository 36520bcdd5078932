"""Stop: cancelling a run that is queued or running.

A queued run is failed at once with one conditional UPDATE from `queued` (the same race a worker's claim runs: one of
the two wins), so it never reaches the provider. A running run is on a worker thread that cannot be revoked (Celery's
threads pool has no revoke for a task in progress): it gets a cancel signal in the shared cache, the one the partial
output goes through (runners.live_output: Redis with REDIS_URL, else the file cache every process on the machine
shares). The worker checks the signal while it waits on the provider (runners.delivery.wait_for_result, every
LIVE_OUTPUT_INTERVAL), abandons the request (its future cancelled, the connection closed) and stores the run `failed`
with error_type `cancelled` and the output received so far.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from runners.failures import FailureKind
from runners.models import Run, RunStatus
from runners.transport import TransportError

CANCELLED_WHILE_QUEUED = "Stopped before it started."
CANCELLED_WHILE_RUNNING = "Stopped while the provider was answering."


def cancel_key(run_id) -> str:
    return f"runners:cancel:{run_id}"


def cancel_requested(*, run_id) -> bool:
    """Whether someone asked to stop the run (one cache read)."""
    return bool(cache.get(cancel_key(run_id)))


def cancelled_error() -> TransportError:
    """The failure a worker ends a stopped run with (permanent: never retried)."""
    return TransportError(CANCELLED_WHILE_RUNNING, permanent=True, error_type=FailureKind.CANCELLED)


@dataclass(frozen=True)
class CancelResult:
    """What run_cancel did: `queued` (failed at once), `signalled` (the worker will stop it) or `finished` (nothing
    to stop: it had already ended)."""

    action: str
    run: Run


def run_cancel(*, run: Run) -> CancelResult:
    """Stop `run`: a queued run fails as `cancelled` at once; a running one is signalled and its worker stops it
    within LIVE_OUTPUT_INTERVAL of its next wait on the provider. A finished run is left as it is.

    Safe to call any number of times. The signal expires after RUNNERS_LOST_AFTER_SECONDS (by then a run is over
    or reaped).
    """
    stopped = Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.FAILED,
        error_type=FailureKind.CANCELLED,
        error_message=CANCELLED_WHILE_QUEUED,
        finished_at=timezone.now(),
    )
    if stopped:
        run.refresh_from_db()
        return CancelResult("queued", run)
    run.refresh_from_db()
    if run.status != RunStatus.RUNNING:
        return CancelResult("finished", run)
    cache.set(cancel_key(run.pk), 1, timeout=settings.RUNNERS_LOST_AFTER_SECONDS)
    return CancelResult("signalled", run)


def can_cancel(*, user, run: Run) -> bool:
    """Who may stop a run: the member who started it and the organisation's admins (DESIGN.md §5)."""
    membership = getattr(user, "membership", None)
    if membership is None or membership.organization_id != run.organization_id:
        return False
    return membership.is_admin or (run.user_id is not None and run.user_id == user.pk)
