"""Writes for runs. run_enqueue is the one way a run is created (playground, API, tests)."""

from typing import Any

from django.db import transaction

from integrations.document import DocumentError, DocumentInvalid
from integrations.models import ModelProperty
from organizations.models import Project
from runners.models import Job, Run
from runners.parameters import split_supported, validate_parameters

MAX_MESSAGES = 500
ROLES = ("system", "user", "assistant", "tool", "developer")


def validate_messages(raw: Any, *, loc_prefix: tuple = ("messages",)) -> list[dict]:
    errors = []
    if not isinstance(raw, list) or not raw:
        raise DocumentInvalid([DocumentError(loc_prefix, "Must be a non-empty list of messages.", "list_type")])
    if len(raw) > MAX_MESSAGES:
        raise DocumentInvalid([DocumentError(loc_prefix, f"At most {MAX_MESSAGES} messages.", "too_long")])
    for index, message in enumerate(raw):
        loc = (*loc_prefix, index)
        if not isinstance(message, dict):
            errors.append(DocumentError(loc, 'Each message must be an object with "role" and "content".', "dict_type"))
            continue
        if message.get("role") not in ROLES:
            errors.append(DocumentError((*loc, "role"), f"Must be one of {', '.join(ROLES)}.", "literal_error"))
        content = message.get("content")
        if not isinstance(content, str | list):
            errors.append(
                DocumentError((*loc, "content"), "Must be a string (or a list of content parts).", "string_type")
            )
    if errors:
        raise DocumentInvalid(errors)
    return raw


def run_enqueue(
    *,
    model: ModelProperty,
    user,
    messages: Any,
    parameters: Any = None,
    project: Project | None = None,
    job: Job | None = None,
    stream: bool = False,
) -> Run:
    """Validate, create a queued Run and hand its id to a worker once the transaction commits."""
    from runners.tasks import execute_run

    clean_messages = validate_messages(messages)
    clean_parameters = validate_parameters(parameters)
    _, dropped = split_supported(clean_parameters, model.supported_parameters)
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
        stream=stream,
    )
    run_id = str(run.pk)
    transaction.on_commit(lambda: execute_run.delay(run_id))
    return run


def job_create(*, organization, user, kind: str, project: Project | None = None, integration=None) -> Job:
    return Job.objects.create(organization=organization, user=user, kind=kind, project=project, integration=integration)
