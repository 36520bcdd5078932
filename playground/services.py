"""The Playground: which models a user can pick, the parameter fields, prompt variables, and running a comparison."""

from typing import Any

from django.db import transaction

from core.problems import Invalid, Problem
from integrations.selectors import model_get
from playground.answer_schema import answer_schema_check
from prompts.selectors import prompt_version_get_by_id, prompt_version_summaries
from prompts.services import prompt_version_use
from prompts.templating import message_variables, messages_render
from runners.models import Job, Run
from runners.parameter_specs import parameter_specs  # noqa: F401 (the Playground's views and tests use it here)
from runners.presenters import run_representation
from runners.services import RunRequest, runs_start

MAX_COLUMNS = 4


def remembered_alias(groups: list[dict[str, Any]], draft: dict[str, Any] | None) -> str | None:
    """The model the user chose last (kept in their draft), if it still exists."""
    alias = (draft or {}).get("last_model")
    if any(model["alias"] == alias for group in groups for model in group["models"]):
        return alias
    return None


def _prompt_version_check(*, organization, prompt_version: Any, messages: Any, errors: list[Problem]):
    """The saved prompt version the messages are, or None; a version they are not is an error (a run records a
    version only when its messages are exactly that version's)."""
    if prompt_version is None:
        return None
    version = prompt_version_get_by_id(organization=organization, version_id=prompt_version)
    if version is None:
        errors.append(Problem(("prompt_version",), "No such saved prompt version.", "not_found"))
    elif messages != version.messages:
        errors.append(
            Problem(
                ("prompt_version",),
                "The messages differ from this version; save them as a new version first.",
                "prompt_version_mismatch",
            )
        )
    return version


def playground_run(
    *,
    organization,
    user,
    messages: Any,
    variables: Any = None,
    columns: Any,
    stream: bool = True,
    prompt_version: Any = None,
) -> tuple[Job, list[Run]]:
    """Start one run per column (each its own model and parameters) on the same messages, or on a column's own: its
    `prompt_version` (a saved prompt version's id), filled in from the same `variables` (comparing prompts).

    `messages` may use {{variables}}, filled in from `variables`; the job keeps both, so that the history reopens
    the template. `prompt_version` (a saved prompt version's id) is recorded on every run when the messages are
    exactly that version's. All or nothing: if anything is invalid, Invalid lists every problem (paths like
    columns[1].parameters.temperature) and no run is queued.
    """
    if not isinstance(columns, list) or not columns:
        raise Invalid([Problem(("columns",), "Pick at least one model.", "too_short")])
    if len(columns) > MAX_COLUMNS:
        raise Invalid([Problem(("columns",), f"At most {MAX_COLUMNS} columns.", "too_long")])
    errors: list[Problem] = []
    try:
        rendered = messages_render(messages, variables)
    except Invalid as exc:
        errors += exc.errors
        rendered = messages
    version = _prompt_version_check(
        organization=organization, prompt_version=prompt_version, messages=messages, errors=errors
    )
    requests, used_versions = [], [version] if version is not None else []
    values = variables if isinstance(variables, dict) else {}
    used = {name: values.get(name) for name in message_variables(messages)} if isinstance(messages, list) else {}
    for index, column in enumerate(columns):
        column = column if isinstance(column, dict) else {}
        alias = column.get("model")
        model = model_get(organization=organization, alias=alias) if isinstance(alias, str) else None
        if model is None:
            errors.append(Problem(("columns", index, "model"), "Pick a model.", "unknown_model"))
            continue
        column_messages, column_version = rendered, version
        if column.get("prompt_version") is not None:
            column_version, column_messages, problems = _column_variant(
                organization, column["prompt_version"], values, index
            )
            if column_version is None:
                errors += [problem for problem in problems if problem not in errors]  # a variable two columns miss
                continue
            used_versions.append(column_version)
            used.update({name: values.get(name) for name in message_variables(column_version.messages)})
        parameters = column.get("parameters") or {}
        requests.append(
            RunRequest(
                model=model,
                messages=column_messages,
                parameters=parameters,
                stream=stream,
                loc=("columns", index),
                prompt_version_id=column_version.pk if column_version is not None else None,
            )
        )
    with transaction.atomic():
        if not errors:
            for used_version in used_versions:
                prompt_version_use(version_id=used_version.pk)
        return runs_start(
            organization=organization,
            user=user,
            kind=Job.Kind.PLAYGROUND,
            requests=requests,
            problems=errors,
            template=messages if isinstance(messages, list) else None,
            variables=used,
        )


def _column_variant(organization, version_id: Any, values: dict, index: int):
    """A column's own messages: (the saved prompt version, its messages with {{variables}} filled in, []) or (None,
    None, the problems: no such version at ("columns", index, "prompt_version"), or a variable it uses without a
    value at ("variables", name), as for the shared messages)."""
    version = prompt_version_get_by_id(organization=organization, version_id=version_id)
    if version is None:
        return None, None, [Problem(("columns", index, "prompt_version"), "No such saved prompt version.", "not_found")]
    try:
        return version, messages_render(version.messages, values), []
    except Invalid as exc:
        return None, None, exc.errors


def _version_summary(run: Run, versions: dict | None) -> dict[str, Any] | None:
    if run.prompt_version_id is None:
        return None
    if versions is None:
        versions = prompt_version_summaries(version_ids=[run.prompt_version_id])
    return versions.get(run.prompt_version_id)


def history_payloads(runs: list[Run]) -> list[dict[str, Any]]:
    """History entries for these runs (their prompt versions read in one query)."""
    versions = prompt_version_summaries(version_ids=[run.prompt_version_id for run in runs if run.prompt_version_id])
    return [run_payload(run, preview=True, versions=versions) for run in runs]


def run_payload(run: Run, *, preview: bool = False, versions: dict | None = None) -> dict[str, Any]:
    """A run for the Playground's script: runners.presenters.run_representation (the API's fields; `preview` as
    there) and what the history reopens it with: `template` (the messages before {{variables}} were filled in),
    `variables` and `prompt_version_summary` (the prompt version's id, prompt, name and number, or None), and
    `schema_check`: the answer checked against its `response_format` (playground.answer_schema; None in a preview or
    when it asked for none)."""
    return {
        **run_representation(run, preview=preview),
        "template": run.job.template if run.job_id else None,
        "variables": run.job.variables if run.job_id else None,
        "prompt_version_summary": _version_summary(run, versions),
        "schema_check": None if preview else answer_schema_check(run),
    }
