"""What evaluations do when runners tell them something (connected in EvaluationsConfig.ready)."""

from evaluations.services.lifecycle import evaluations_creation_resume, run_finished_advance


def on_run_finished(
    sender, *, run_id: str, status: str, job_id: str | None, work_class: str | None = None, **kwargs
) -> None:
    """runners.signals.run_finished: judges for a finished output, the score of a finished judge, the end."""
    run_finished_advance(run_id=run_id, status=status, job_id=job_id, work_class=work_class)


def on_reaper_pass(sender, **kwargs) -> int:
    """runners.signals.reaper_pass: evaluations left `creating` by a lost message get it again. Returns how many."""
    return evaluations_creation_resume()
