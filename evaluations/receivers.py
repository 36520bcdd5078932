"""What evaluations do when runners tell them something (connected in EvaluationsConfig.ready)."""

from evaluations.services.lifecycle import run_finished_advance


def on_run_finished(
    sender, *, run_id: str, status: str, job_id: str | None, work_class: str | None = None, **kwargs
) -> None:
    """runners.signals.run_finished: judges for a finished output, the score of a finished judge, the end."""
    run_finished_advance(run_id=run_id, status=status, job_id=job_id, work_class=work_class)
