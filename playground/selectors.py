"""Reads for the Playground, always scoped to an organisation (built on the runners' selectors)."""

from evaluations.code_metrics import code_columns, code_describe
from evaluations.judging import RESERVED_VARIABLES, prompt_variables
from evaluations.selectors import metric_list
from prompts.models import PromptVersion
from prompts.selectors import prompt_list, prompt_version_choices, prompt_version_variables
from runners.live_output import live_output_get
from runners.models import Job, Run, RunStatus
from runners.selectors import run_list, runs_with_output_preview

HISTORY_LENGTH = 25


def playground_history(*, organization, user, limit: int = HISTORY_LENGTH) -> list[Run]:
    """The user's most recent Playground runs, newest first."""
    runs = run_list(organization=organization, user=user).filter(job__kind=Job.Kind.PLAYGROUND).select_related("job")
    return list(runs_with_output_preview(runs)[:limit])


def playground_job_runs(*, organization, job_id) -> list[Run] | None:
    """The runs of one of the organisation's jobs, in the order they were started; None if there is no such job."""
    if not Job.objects.filter(organization=organization, pk=job_id).exists():
        return None
    return list(run_list(organization=organization, job_id=job_id).order_by("created_at"))


def playground_run_live(*, organization, run_id) -> dict | None:
    """What a running run's column shows between full reads, cheaply: {"id", "status", "output"}, where `output` is
    the partial text a streaming run's worker published (runners.live_output), else None. None if the organisation
    has no such run. One indexed read of two columns and one cache read: the page asks ~10 times a second."""
    row = Run.objects.filter(organization=organization, pk=run_id).values_list("status", "stream").first()
    if row is None:
        return None
    status, stream = row
    output = live_output_get(run_id=run_id) if stream and status == RunStatus.RUNNING else None
    return {"id": str(run_id), "status": status, "output": output}


def playground_metrics(*, organization) -> list[dict]:
    """The organisation's metrics (LLM judges and code checks) for the Metric select.

    `needs` lists the dataset {{variables}} a metric's prompt uses besides {{input}} and {{output}} (a code
    check's reference column): such a metric can only score an evaluation's rows, so the select shows it disabled
    (run_scores_request refuses it). `check` describes a code metric's check.
    """
    return [
        {
            "id": str(metric.uuid),
            "name": metric.name,
            "kind": metric.kind,
            "judge_model": metric.judge_model,
            "judges": metric.judges,
            "check": code_describe(metric.code) if metric.is_code else None,
            "needs": code_columns(metric.code)
            if metric.is_code
            else [name for name in prompt_variables(metric.prompt) if name not in RESERVED_VARIABLES],
        }
        for metric in metric_list(organization=organization)
    ]


def playground_prompts(*, organization) -> list[dict]:
    """The organisation's saved prompts for the Prompt select, last changed first: {"id", "name"}."""
    return [{"id": str(prompt.pk), "name": prompt.name} for prompt in prompt_list(organization=organization)]


def playground_prompt_versions(*, organization) -> list[dict]:
    """Every version of the organisation's saved prompts, for a column's Messages select (comparing prompts):
    {"id", "label" ("name · v2 (production)"), "variables" (the {{variables}} its messages use)}."""
    labels = dict(prompt_version_choices(organization=organization))
    versions = PromptVersion.objects.filter(prompt__organization=organization).only("pk", "messages")
    variables = {str(version.pk): prompt_version_variables(version) for version in versions}
    return [{"id": key, "label": label, "variables": variables.get(key, [])} for key, label in labels.items()]
