"""Writes for runs. run_enqueue creates one run, runs_enqueue_bulk many (evaluations, judges); nothing else builds
Run rows or publishes them to the workers. runs_start starts interactive work (Playground, API, connection Test):
default project, job, and its runs through run_enqueue."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.problems import Invalid, Problem, unstorable_strings
from integrations.models import ModelProperty
from integrations.parameter_rules import parameter_rules_applied
from organizations.models import Project
from organizations.services import default_project
from runners.applied_rules import dropped_by_rules, rules_applying
from runners.conversation import conversation_problems
from runners.dispatch import runs_dispatch_batch, runs_publish
from runners.models import Job, Run, RunStatus, WorkClass
from runners.parameters import split_supported, validate_parameters

MAX_MESSAGES = 500
# Objects and lists inside one message (content parts, tool calls) nest this deep at most; real ones nest 4 levels.
MAX_MESSAGE_DEPTH = 16
ROLES = ("system", "user", "assistant", "tool", "developer")


def validate_messages(raw: Any, *, loc_prefix: tuple = ("messages",)) -> list[dict]:
    errors, checked = [], set()
    if not isinstance(raw, list) or not raw:
        raise Invalid([Problem(loc_prefix, "Must be a non-empty list of messages.", "list_type")])
    if len(raw) > MAX_MESSAGES:
        raise Invalid([Problem(loc_prefix, f"At most {MAX_MESSAGES} messages.", "too_long")])
    for index, message in enumerate(raw):
        loc = (*loc_prefix, index)
        if not isinstance(message, dict):
            errors.append(Problem(loc, 'Each message must be an object with "role" and "content".', "dict_type"))
            continue
        if _depth(message) > MAX_MESSAGE_DEPTH:
            message_text = f"Objects and lists nest at most {MAX_MESSAGE_DEPTH} levels in a message."
            errors.append(Problem(loc, message_text, "too_deep"))
            continue
        if unstorable := unstorable_strings(message, loc):
            errors += unstorable  # no database column stores them (PostgreSQL's jsonb refuses \u0000)
            continue
        if message.get("role") not in ROLES:
            errors.append(Problem((*loc, "role"), f"Must be one of {', '.join(ROLES)}.", "literal_error"))
        checked.add(index)
    # Content, tool calls and tool results (runners.conversation).
    errors += conversation_problems(raw, loc_prefix, only=checked)
    if errors:
        depth = len(loc_prefix)  # in message order; within a message, as found
        raise Invalid(sorted(errors, key=lambda problem: problem.loc[depth] if len(problem.loc) > depth else -1))
    return raw


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            pending.extend((child, level) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def run_enqueue(
    *,
    model: ModelProperty,
    user,
    messages: Any,
    parameters: Any = None,
    project: Project | None = None,
    job: Job | None = None,
    stream: bool = False,
    prompt_version_id: uuid.UUID | None = None,
) -> Run:
    """Validate, create a queued interactive Run and hand its id to a worker once the transaction commits.

    `prompt_version_id` records the saved prompt version the messages came from (checked by the caller).
    """
    clean_messages = validate_messages(messages)
    clean_parameters = validate_parameters(parameters)
    learned = parameter_rules_applied(integration_ids={model.integration_id}, model_names={model.name})
    dropped, applied_rules = _planned(clean_parameters, model, learned, stream=stream)
    integration = model.integration
    # One INSERT needs no transaction of its own; on_commit publishes right after it in autocommit, or when the
    # caller's transaction commits (several runs created together are published together or not at all).
    run = Run.objects.create(
        organization_id=integration.organization_id,
        user=user,
        project=project,
        job=job,
        integration=integration,
        integration_name=integration.name,
        model_alias=model.alias,
        model_name=model.name,
        messages=clean_messages,
        parameters=clean_parameters,
        dropped_parameters=dropped,
        applied_rules=applied_rules,
        stream=stream,
        prompt_version_id=prompt_version_id,
        work_class=WorkClass.INTERACTIVE,
        published_at=timezone.now(),
    )
    run_ids = [str(run.pk)]
    transaction.on_commit(lambda: runs_publish(run_ids, work_class=WorkClass.INTERACTIVE))
    return run


def _planned(parameters: dict, model: ModelProperty, learned: dict, *, stream: bool) -> tuple[list[str], list[dict]]:
    """(parameters not sent: unsupported or dropped by a learned rule, the learned rules the run applies)."""
    kept, dropped = split_supported(parameters, model.supported_parameters)
    rules = rules_applying(learned.get((model.integration_id, model.name), []), parameters=kept, stream=stream)
    return sorted({*dropped, *(dropped_by_rules(rules) & set(kept))}), rules


@dataclass(frozen=True)
class RunSpec:
    """One run to create in bulk: the model, its messages and its (canonical, validated) parameters."""

    model: ModelProperty
    messages: list[dict]
    parameters: dict
    # The saved prompt version the messages came from (checked by the caller).
    prompt_version_id: uuid.UUID | None = None


def runs_enqueue_bulk(
    *, specs: list[RunSpec], user, job: Job, publish: bool = True, work_class: WorkClass = WorkClass.BATCH
) -> list[Run]:
    """Create many queued runs in the job at once, as run_enqueue creates one; publish their ids on commit.

    Call inside transaction.atomic() (all or nothing). Messages and parameters are validated again, per run
    (Invalid). With publish=False the caller publishes later with runs_publish_queued (a fan-out task).
    `work_class` BATCH (an evaluation's outputs) or JUDGE: batch runs are published in their organisation's turn
    (runners.dispatch), judges at once. Returns the runs in the order of `specs`.
    """
    runs = []
    published_at = None if work_class == WorkClass.BATCH else timezone.now()
    learned = parameter_rules_applied(
        integration_ids={spec.model.integration_id for spec in specs}, model_names={spec.model.name for spec in specs}
    )
    for spec in specs:
        integration = spec.model.integration
        clean_parameters = validate_parameters(spec.parameters)
        dropped, applied_rules = _planned(clean_parameters, spec.model, learned, stream=False)
        runs.append(
            Run(
                organization_id=integration.organization_id,
                user=user,
                project_id=job.project_id,
                job=job,
                integration=integration,
                integration_name=integration.name,
                model_alias=spec.model.alias,
                model_name=spec.model.name,
                messages=validate_messages(spec.messages),
                parameters=clean_parameters,
                dropped_parameters=dropped,
                applied_rules=applied_rules,
                prompt_version_id=spec.prompt_version_id,
                work_class=work_class,
                published_at=published_at,
            )
        )
    Run.objects.bulk_create(runs, batch_size=500)
    if publish:
        if work_class == WorkClass.BATCH:
            transaction.on_commit(runs_dispatch_batch)
        else:
            run_ids = [str(run.pk) for run in runs]
            transaction.on_commit(lambda: runs_publish(run_ids, work_class=work_class))
    return runs


def runs_publish_queued(*, job: Job) -> int:
    """Hand the job's queued runs not yet published to execute_run (by id); returns how many were published.

    Batch runs go out in their organisation's turn (runners.dispatch.runs_dispatch_batch: the count then includes
    any other job's batch runs published in the same round; the rest follow as runs finish). Idempotent: a run
    is published once, and a run published twice would still be executed once (the worker's claim is a
    conditional UPDATE from queued).
    """
    waiting = Run.objects.filter(job=job, status=RunStatus.QUEUED, published_at__isnull=True)
    published = 0
    for work_class in (WorkClass.INTERACTIVE, WorkClass.JUDGE):
        with transaction.atomic():
            ids = waiting.filter(work_class=work_class).select_for_update(skip_locked=True).values_list("pk", flat=True)
            run_ids = [str(pk) for pk in ids]
            Run.objects.filter(pk__in=run_ids).update(published_at=timezone.now())
        # The runs were committed before (they are not created here): their ids can go out at once.
        runs_publish(run_ids, work_class=work_class)
        published += len(run_ids)
    if waiting.filter(work_class=WorkClass.BATCH).exists():
        published += runs_dispatch_batch()
    return published


def job_create(
    *,
    organization,
    user,
    kind: str,
    project: Project | None = None,
    integration=None,
    template: list | None = None,
    variables: dict | None = None,
) -> Job:
    """A job; `template` and `variables` are the messages before {{variables}} were filled in, and their values."""
    return Job.objects.create(
        organization=organization,
        user=user,
        kind=kind,
        project=project,
        integration=integration,
        template=template,
        variables=variables,
    )


@dataclass(frozen=True)
class RunRequest:
    """One run to start on `model`: its messages, parameters and stream flag, checked by runs_start.

    `loc` prefixes the location of this run's parameter errors (the Playground's ("columns", 1)); message errors
    keep their own location and are reported once when several runs share them.
    """

    model: ModelProperty
    messages: Any
    parameters: Any = None
    stream: bool = False
    loc: tuple = ()
    # The saved prompt version the messages came from (checked by the caller).
    prompt_version_id: uuid.UUID | None = None


def _request_problems(requests: Sequence[RunRequest]) -> list[Problem]:
    """Every problem of these requests, as run_enqueue would raise them; [] when all of them can start."""
    errors: list[Problem] = []
    for request in requests:
        try:
            validate_messages(request.messages)
            validate_parameters(request.parameters)
        except Invalid as exc:
            for error in exc.errors:
                if error.loc[:1] == ("messages",):
                    if error not in errors:
                        errors.append(error)
                else:
                    errors.append(Problem((*request.loc, *error.loc), error.message, error.type))
    return errors


def runs_start(
    *,
    organization,
    user,
    kind: str,
    requests: Sequence[RunRequest],
    job: Job | None = None,
    integration=None,
    problems: Sequence[Problem] = (),
    template: list | None = None,
    variables: dict | None = None,
) -> tuple[Job, list[Run]]:
    """Start interactive work: a job of `kind` in the organisation's default project (or the given `job`, in its
    project) with one queued run per request, each handed to a worker when the transaction commits.

    All or nothing: Invalid lists the caller's `problems` (found in the same submission) and every problem
    of the requests, and nothing is written. `integration` is recorded on a new job (a connection test's), and
    `template` and `variables` (the messages before {{variables}} were filled in, and their values) on a new job.
    """
    errors = list(problems)
    errors += [error for error in _request_problems(requests) if error not in errors]
    if errors:
        raise Invalid(errors)
    # Checked before anything is written; run_enqueue checks each again, as the one way a run is created.
    with transaction.atomic():
        if job is None:
            project = default_project(organization=organization)
            job = job_create(
                organization=organization,
                user=user,
                kind=kind,
                project=project,
                integration=integration,
                template=template,
                variables=variables,
            )
        runs = [
            run_enqueue(
                model=request.model,
                user=user,
                messages=request.messages,
                parameters=request.parameters,
                project=job.project,
                job=job,
                stream=request.stream,
                prompt_version_id=request.prompt_version_id,
            )
            for request in requests
        ]
    return job, runs
