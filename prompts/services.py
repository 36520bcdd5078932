"""Writes for saved prompts: create, add a version, move a label, delete.

Layer: prompts sits above runners (beside playground and evaluations). A version's messages and parameters are
checked by the runners' own rules (`validate_messages`, `validate_parameters`), so a version that saves is a version
that runs; runs record the version they came from as a plain UUID (`Run.prompt_version_id`), so runners never
import prompts. Versions are immutable: nothing here, in the API or in the admin updates one.
"""

import re
from typing import Any

from django.db import transaction
from django.db.models import RestrictedError

from core.problems import Invalid, Problem
from integrations.selectors import model_get
from organizations.models import Organization
from prompts.models import Prompt, PromptLabel, PromptVersion
from runners.models import Run
from runners.parameters import validate_parameters
from runners.services import validate_messages

MAX_NAME = 200
MAX_NOTE = 500
MAX_VERSIONS = 1000
LABEL_RE = re.compile(r"\A[a-z0-9][a-z0-9_.-]{0,49}\Z")
# `latest` always means the newest version; it is never stored.
RESERVED_LABELS = ("latest",)

READ = "read"
USE = "use"
DELETE = "delete"


class PromptInUse(Exception):
    """The prompt has versions that runs or evaluations recorded; it is kept so that they stay explainable."""


def prompt_permissions(*, prompt: Prompt, user) -> list[str]:
    """Members read, use, add versions and move labels; admins and the creator also delete (DESIGN.md §5)."""
    membership = getattr(user, "membership", None)
    if membership is None or membership.organization_id != prompt.organization_id:
        return []
    permissions = [READ, USE]
    if membership.is_admin or prompt.created_by_id == user.pk:
        permissions.append(DELETE)
    return permissions


def _clean_name(raw: Any) -> str:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        raise Invalid([Problem(("name",), "Give the prompt a name.", "missing")])
    if len(name) > MAX_NAME:
        raise Invalid([Problem(("name",), f"At most {MAX_NAME} characters.", "too_long")])
    return name


def _version_fields(
    *,
    organization: Organization,
    messages: Any,
    model: Any,
    parameters: Any,
    tools: Any,
    response_format: Any,
    note: Any,
) -> dict[str, Any]:
    """The checked content of a version; Invalid lists every problem with its path."""
    errors: list[Problem] = []
    fields: dict[str, Any] = {}
    try:
        fields["messages"] = validate_messages(messages)
    except Invalid as exc:
        errors += exc.errors
    if model is None or model == "":
        fields["model_alias"] = ""
    elif not isinstance(model, str) or model_get(organization=organization, alias=model) is None:
        errors.append(Problem(("model",), "No model with this alias in your organisation.", "unknown_model"))
    else:
        fields["model_alias"] = model
    own = {"tools": tools, "response_format": response_format}
    try:
        clean = validate_parameters(parameters)
        # Tools and the response format are kept as the version's own fields; inside `parameters` (as a run
        # takes them) they are moved there, unless given twice.
        for name in own:
            if name in clean and own[name] is not None:
                errors.append(Problem(("parameters", name), f'Give "{name}" once.', "duplicate"))
            elif name in clean:
                own[name] = clean.pop(name)
        fields["parameters"] = clean
    except Invalid as exc:
        errors += exc.errors
    try:
        extra = validate_parameters({key: value for key, value in own.items() if value is not None}, loc_prefix=())
        fields["tools"] = extra.get("tools")
        fields["response_format"] = extra.get("response_format")
    except Invalid as exc:
        errors += exc.errors
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        errors.append(Problem(("note",), f"A sentence of at most {MAX_NOTE} characters.", "string_type"))
    else:
        fields["note"] = note.strip()
    if errors:
        raise Invalid(errors)
    return fields


def prompt_create(
    *,
    organization: Organization,
    user,
    name: Any,
    messages: Any,
    model: Any = None,
    parameters: Any = None,
    tools: Any = None,
    response_format: Any = None,
    note: Any = "",
) -> Prompt:
    """A new prompt with its version 1. Invalid (paths `name`, `messages[0].role`, `parameters.top_p`...)
    lists every problem, a name already used in the organisation included; nothing is written then."""
    errors: list[Problem] = []
    try:
        clean_name = _clean_name(name)
        if Prompt.objects.filter(organization=organization, name=clean_name).exists():
            errors.append(Problem(("name",), f'A prompt named "{clean_name}" already exists.', "unique"))
    except Invalid as exc:
        errors += exc.errors
    try:
        fields = _version_fields(
            organization=organization,
            messages=messages,
            model=model,
            parameters=parameters,
            tools=tools,
            response_format=response_format,
            note=note,
        )
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        prompt = Prompt.objects.create(organization=organization, name=clean_name, created_by=user)
        PromptVersion.objects.create(prompt=prompt, number=1, created_by=user, **fields)
    return prompt


def prompt_version_add(
    *,
    prompt: Prompt,
    user,
    messages: Any,
    model: Any = None,
    parameters: Any = None,
    tools: Any = None,
    response_format: Any = None,
    note: Any = "",
) -> PromptVersion:
    """The prompt's next version (numbers are 1, 2, 3... without gaps; two writers at once get two numbers)."""
    fields = _version_fields(
        organization=prompt.organization,
        messages=messages,
        model=model,
        parameters=parameters,
        tools=tools,
        response_format=response_format,
        note=note,
    )
    with transaction.atomic():
        # The lock on the prompt row orders concurrent additions, so each one reads the number before it.
        locked = Prompt.objects.select_for_update().get(pk=prompt.pk)
        last = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
        if last >= MAX_VERSIONS:
            raise Invalid([Problem((), f"A prompt has at most {MAX_VERSIONS} versions.", "too_long")])
        version = PromptVersion.objects.create(prompt=locked, number=last + 1, created_by=user, **fields)
        locked.save(update_fields=["updated_at"])
    return version


def prompt_label_set(*, prompt: Prompt, name: Any, version: PromptVersion) -> PromptLabel:
    """Point the label `name` at `version`, creating the label or moving it from the version it was on."""
    if not isinstance(name, str) or not LABEL_RE.fullmatch(name) or name in RESERVED_LABELS:
        raise Invalid(
            [
                Problem(
                    ("label",),
                    "Lower-case letters, digits, '.', '_' and '-', at most 50, not \"latest\".",
                    "string_pattern_mismatch",
                )
            ]
        )
    if version.prompt_id != prompt.pk:
        raise Invalid([Problem(("version",), "No such version of this prompt.", "not_found")])
    with transaction.atomic():
        label, _ = PromptLabel.objects.update_or_create(prompt=prompt, name=name, defaults={"version": version})
        Prompt.objects.filter(pk=prompt.pk).update(updated_at=label.updated_at)
    return label


def prompt_label_remove(*, prompt: Prompt, name: str) -> bool:
    """Remove the label; False if the prompt had none of that name."""
    deleted, _ = PromptLabel.objects.filter(prompt=prompt, name=name).delete()
    return bool(deleted)


def prompt_version_use(*, version_id) -> PromptVersion:
    """Lock the version's prompt for the caller's transaction before runs record the version, so that
    prompt_delete cannot remove it between the check and the INSERT. Call inside transaction.atomic()."""
    version = PromptVersion.objects.select_related("prompt").get(pk=version_id)
    list(Prompt.objects.select_for_update().filter(pk=version.prompt_id).values_list("pk", flat=True))
    return version


def prompt_delete(*, prompt: Prompt) -> None:
    """Delete the prompt and its versions; PromptInUse while a run or an evaluation records one of its versions."""
    with transaction.atomic():
        locked = Prompt.objects.select_for_update().filter(pk=prompt.pk).first()
        if locked is None:
            return
        version_ids = list(locked.versions.values_list("pk", flat=True))
        used = Run.objects.filter(prompt_version_id__in=version_ids).count()
        if used:
            raise PromptInUse(
                f"{used} run(s) came from versions of this prompt; it is kept so that they stay explainable."
            )
        try:
            locked.delete()
        except RestrictedError:
            # An evaluation refers to a version (its database relation refuses the delete).
            raise PromptInUse("An evaluation uses a version of this prompt; it is kept with it.") from None
