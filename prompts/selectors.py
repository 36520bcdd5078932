"""Reads for saved prompts, always scoped to an organisation."""

import uuid
from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet

from integrations.dependents import Dependent
from prompts.models import Prompt, PromptLabel, PromptVersion
from prompts.templating import message_variables


def prompt_list(*, organization) -> QuerySet[Prompt]:
    """The organisation's prompts, last changed first, each with `version_count`, `latest_number` and its labels."""
    return (
        Prompt.objects.filter(organization=organization)
        .select_related("created_by")
        .annotate(version_count=Count("versions"), latest_number=Max("versions__number"))
        .prefetch_related(Prefetch("labels", queryset=PromptLabel.objects.select_related("version")))
        .order_by("-updated_at", "name")
    )


def prompt_get(*, organization, prompt_id: uuid.UUID | str) -> Prompt | None:
    """One prompt with its versions (newest last) and labels prefetched; None if not the organisation's."""
    try:
        prompt_id = uuid.UUID(str(prompt_id))
    except ValueError:
        return None
    return (
        prompt_list(organization=organization)
        .prefetch_related(Prefetch("versions", queryset=PromptVersion.objects.order_by("number")))
        .filter(pk=prompt_id)
        .first()
    )


def prompt_version_get(*, prompt: Prompt, number: int | None = None, label: str | None = None) -> PromptVersion | None:
    """Version `number`, or the one `label` points at (`latest`: the newest); None if there is none."""
    versions = PromptVersion.objects.filter(prompt=prompt).select_related("prompt")
    if label == "latest":
        return versions.order_by("-number").first()
    if label is not None:
        return versions.filter(labels__name=label).first()
    return versions.filter(number=number).first()


def prompt_version_get_by_id(*, organization, version_id: uuid.UUID | str) -> PromptVersion | None:
    """A version by its UUID (what runs record), if its prompt is the organisation's."""
    try:
        version_id = uuid.UUID(str(version_id))
    except ValueError:
        return None
    return (
        PromptVersion.objects.select_related("prompt").filter(pk=version_id, prompt__organization=organization).first()
    )


def prompt_version_parameters(version: PromptVersion) -> dict[str, Any]:
    """The run parameters a version asks for: its parameters, plus tools and response_format when it has them."""
    parameters = dict(version.parameters)
    if version.tools is not None:
        parameters["tools"] = version.tools
    if version.response_format is not None:
        parameters["response_format"] = version.response_format
    return parameters


def prompt_version_variables(version: PromptVersion) -> list[str]:
    return message_variables(version.messages)


def prompt_version_labels(version: PromptVersion) -> list[str]:
    return sorted(label.name for label in version.labels.all())


def prompt_version_summaries(*, version_ids: list) -> dict[uuid.UUID, dict[str, Any]]:
    """{version id: {"id", "prompt", "name", "number"}} for the versions that still exist, in one query."""
    if not version_ids:
        return {}
    rows = PromptVersion.objects.filter(pk__in=set(version_ids)).values_list(
        "pk", "prompt_id", "prompt__name", "number"
    )
    return {
        pk: {"id": str(pk), "prompt": str(prompt_id), "name": name, "number": number}
        for pk, prompt_id, name, number in rows
    }


def prompt_version_choices(*, organization) -> list[tuple[str, str]]:
    """(version id, "name · v2 (production)") for every version of the organisation's prompts, newest first."""
    versions = (
        PromptVersion.objects.filter(prompt__organization=organization)
        .select_related("prompt")
        .prefetch_related("labels")
        .order_by("prompt__name", "-number")
    )
    choices = []
    for version in versions:
        labels = prompt_version_labels(version)
        suffix = f" ({', '.join(labels)})" if labels else ""
        choices.append((str(version.pk), f"{version.prompt.name} · v{version.number}{suffix}"))
    return choices


def prompt_version_options(*, organization) -> list[dict[str, Any]]:
    """The organisation's saved prompts with their versions, for a "saved prompt version" select and its preview:
    [{"prompt": name, "versions": [{"id", "number", "labels", "messages", "model_alias", "parameters"}]}], prompts
    by name, versions newest first."""
    versions = (
        PromptVersion.objects.filter(prompt__organization=organization)
        .select_related("prompt")
        .prefetch_related("labels")
        .order_by("prompt__name", "-number")
    )
    prompts: dict[str, list[dict[str, Any]]] = {}
    for version in versions:
        prompts.setdefault(version.prompt.name, []).append(
            {
                "id": str(version.pk),
                "number": version.number,
                "labels": prompt_version_labels(version),
                "messages": version.messages,
                "model_alias": version.model_alias,
                "parameters": version.parameters,
            }
        )
    return [{"prompt": name, "versions": items} for name, items in prompts.items()]


def prompts_written_for(organization_id: int, aliases: list[str]) -> list:
    """Saved prompts with versions written for one of the model `aliases`, as integrations.dependents.Dependent
    (registered in PromptsConfig.ready: deleting an integration lists them), each with its versions' numbers."""
    versions = (
        PromptVersion.objects.filter(prompt__organization_id=organization_id, model_alias__in=aliases)
        .select_related("prompt")
        .order_by("prompt__name", "number")
    )
    by_prompt: dict = {}
    for version in versions:
        by_prompt.setdefault(version.prompt, []).append(version)
    return [
        Dependent(
            kind="prompt",
            id=str(prompt.pk),
            name=prompt.name,
            detail=", ".join(f'v{version.number} on "{version.model_alias}"' for version in prompt_versions),
        )
        for prompt, prompt_versions in by_prompt.items()
    ]
