from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.log_context import run_log_context
from runners.execution import run_execute


@shared_task(
    name="runners.execute_run",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The database being briefly unreachable must not leave a run queued forever: try the task again.
    # (Provider failures are retried inside run_execute and never raise.)
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def execute_run(run_id: str, deferrals: int = 0) -> None:
    """Execute one run. The message carries the run id (and how often it was deferred for its integration's limits)
    only; the worker reads and decrypts the rest."""
    with run_log_context(run_id=run_id):
        run_execute(run_id=run_id, deferrals=deferrals)
