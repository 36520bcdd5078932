from celery import shared_task

from runners.execution import run_execute


@shared_task(name="runners.execute_run", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def execute_run(run_id: str) -> None:
    """Execute one run. The message carries the run id only; the worker reads and decrypts the rest."""
    run_execute(run_id=run_id)
