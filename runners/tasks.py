from celery import shared_task


@shared_task(name="runners.execute_run")
def execute_run(run_id: str) -> None:
    """Placeholder until the runners work lands: see runners issue."""
    raise NotImplementedError
