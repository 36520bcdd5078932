"""Saved prompts: list, create, read with versions, delete; versions: add, list, read; labels: set, read, remove."""

import uuid

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from api.errors import Unprocessable, problem
from api.schema import error_responses
from api.serializers import StrictCharField, TimestampField
from api.views.base import OrganizationApi, found
from api.views.runs import MessagesField, ParametersField
from core.problems import Invalid
from prompts.models import Prompt
from prompts.selectors import (
    prompt_get,
    prompt_list,
    prompt_version_get,
    prompt_version_labels,
    prompt_version_variables,
)
from prompts.services import (
    DELETE,
    MAX_NAME,
    MAX_NOTE,
    PromptInUse,
    prompt_create,
    prompt_delete,
    prompt_label_remove,
    prompt_label_set,
    prompt_permissions,
    prompt_version_add,
)


@extend_schema_field({"type": "array", "items": {"type": "object"}, "maxItems": 128})
class ToolsField(serializers.JSONField):
    """Checked by the prompts' services (the run parameter `tools`); `allow_null` adds the null."""


@extend_schema_field({"type": "object"})
class ObjectField(serializers.JSONField):
    """Checked by the prompts' services (the run parameter `response_format`); `allow_null` adds the null."""


class VersionOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="What runs and evaluations record as `prompt_version`.")
    prompt = serializers.UUIDField(source="prompt_id")
    number = serializers.IntegerField(help_text="1, 2, 3... in the order the versions were added.")
    messages = serializers.JSONField(help_text="Chat messages; string contents may use {{variables}}.")
    variables = serializers.SerializerMethodField(help_text="The {{variables}} the messages use, in order.")
    model = serializers.CharField(
        source="model_alias", allow_null=True, help_text="The model alias it was written for, or null."
    )
    parameters = serializers.JSONField()
    tools = ToolsField(allow_null=True)
    response_format = ObjectField(allow_null=True)
    note = serializers.CharField()
    labels = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = TimestampField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["model"] = data["model"] or None
        return data

    def get_variables(self, version) -> list[str]:
        return prompt_version_variables(version)

    def get_labels(self, version) -> list[str]:
        return prompt_version_labels(version)


class PromptSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    latest_version = serializers.IntegerField(source="latest_number", help_text="The newest version's number.")
    version_count = serializers.IntegerField()
    labels = serializers.SerializerMethodField(help_text="Each label with the number of the version it points at.")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = TimestampField()
    updated_at = TimestampField()
    permissions = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_labels(self, prompt) -> dict:
        return {label.name: label.version.number for label in prompt.labels.all()}

    def get_permissions(self, prompt) -> list[str]:
        return prompt_permissions(prompt=prompt, user=self.context["user"])


class PromptOutput(PromptSummaryOutput):
    versions = VersionOutput(many=True, source="versions.all", help_text="Oldest first.")


class VersionInput(serializers.Serializer):
    messages = MessagesField(help_text="Chat messages; string contents may use {{variables}}.")
    model = StrictCharField(
        required=False, allow_null=True, allow_blank=True, max_length=255, help_text="A model alias (optional)."
    )
    parameters = ParametersField(required=False, allow_null=True)
    tools = ToolsField(required=False, allow_null=True)
    response_format = ObjectField(required=False, allow_null=True)
    note = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_NOTE, help_text="What changed, for the version list."
    )


class PromptCreateInput(VersionInput):
    name = StrictCharField(max_length=MAX_NAME, help_text="Unique in the organisation.")


PROMPT_EXAMPLE = OpenApiExample(
    "A support answer",
    value={
        "name": "support-answer",
        "messages": [
            {"role": "system", "content": "You answer for {{company}}'s support desk, briefly."},
            {"role": "user", "content": "{{question}}"},
        ],
        "model": "GPT 5.2",
        "parameters": {"temperature": 0.2, "max_tokens": 300},
    },
    request_only=True,
)

PROMPT_ID = OpenApiParameter("prompt_id", uuid.UUID, OpenApiParameter.PATH, description="The prompt's id.")
NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="The version's number (1, 2...).")
LABEL = OpenApiParameter(
    "label", str, OpenApiParameter.PATH, description='A label such as "production"; reading, "latest" is the newest.'
)


def _version_kwargs(data: dict) -> dict:
    return {key: data.get(key) for key in ("messages", "model", "parameters", "tools", "response_format", "note")}


class PromptApi(OrganizationApi):
    def prompt(self, prompt_id) -> Prompt:
        return found(prompt_get(organization=self.organization, prompt_id=prompt_id), "prompt")

    def read(self, prompt: Prompt, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = prompt_get(organization=self.organization, prompt_id=prompt.pk)
        return Response(PromptOutput(fresh, context={"user": self.request.user}).data, status=status_code)


class PromptsApi(PromptApi):
    @extend_schema(
        operation_id="prompts_list",
        summary="List saved prompts, last changed first",
        responses={200: PromptSummaryOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        prompts = prompt_list(organization=self.organization)
        return Response(PromptSummaryOutput(prompts, many=True, context={"user": request.user}).data)

    @extend_schema(
        operation_id="prompts_create",
        summary="Save a prompt (its version 1)",
        description="Any member may save prompts. `tools` and `response_format` may also be given inside "
        "`parameters`; they are stored as the version's own fields.",
        request=PromptCreateInput,
        examples=[PROMPT_EXAMPLE],
        responses={201: PromptOutput, **error_responses(401, 403, 413, 415, 422)},
    )
    def post(self, request):
        data = self.validated(PromptCreateInput, request.data, where="body")
        prompt = prompt_create(
            organization=self.organization, user=request.user, name=data["name"], **_version_kwargs(data)
        )
        return self.read(prompt, status_code=status.HTTP_201_CREATED)


class PromptDetailApi(PromptApi):
    @extend_schema(
        operation_id="prompts_get",
        summary="A prompt with all its versions",
        parameters=[PROMPT_ID],
        responses={200: PromptOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, prompt_id: uuid.UUID):
        return self.read(self.prompt(prompt_id))

    @extend_schema(
        operation_id="prompts_delete",
        summary="Delete a prompt (admins and its creator; not while runs or evaluations used it: 409)",
        parameters=[PROMPT_ID],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(401, 403, 404),
            409: OpenApiResponse(description="In use."),
        },
    )
    def delete(self, request, prompt_id: uuid.UUID):
        prompt = self.prompt(prompt_id)
        if DELETE not in prompt_permissions(prompt=prompt, user=request.user):
            raise PermissionDenied("Only admins and the prompt's creator may delete it.")
        try:
            prompt_delete(prompt=prompt)
        except PromptInUse as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PromptVersionsApi(PromptApi):
    @extend_schema(
        operation_id="prompt_versions_list",
        summary="A prompt's versions, oldest first",
        parameters=[PROMPT_ID],
        responses={200: VersionOutput(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, prompt_id: uuid.UUID):
        prompt = self.prompt(prompt_id)
        return Response(VersionOutput(prompt.versions.all(), many=True).data)

    @extend_schema(
        operation_id="prompt_versions_create",
        summary="Add a version (versions never change; this is the way to edit a prompt)",
        parameters=[PROMPT_ID],
        request=VersionInput,
        responses={201: VersionOutput, **error_responses(401, 403, 404, 413, 415, 422)},
    )
    def post(self, request, prompt_id: uuid.UUID):
        prompt = self.prompt(prompt_id)
        data = self.validated(VersionInput, request.data, where="body")
        version = prompt_version_add(prompt=prompt, user=request.user, **_version_kwargs(data))
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)


class PromptVersionDetailApi(PromptApi):
    @extend_schema(
        operation_id="prompt_versions_get",
        summary="One version of a prompt, by number",
        parameters=[PROMPT_ID, NUMBER],
        responses={200: VersionOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, prompt_id: uuid.UUID, number: int):
        version = prompt_version_get(prompt=self.prompt(prompt_id), number=number)
        return Response(VersionOutput(found(version, "version")).data)


class PromptLabelApi(PromptApi):
    class LabelInput(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text="The number of the version the label points at.")

    class LabelOutput(serializers.Serializer):
        name = serializers.CharField()
        version = serializers.IntegerField(source="version.number")

    @extend_schema(
        operation_id="prompt_labels_get",
        summary='The version a label points at ("latest": the newest)',
        parameters=[PROMPT_ID, LABEL],
        responses={200: VersionOutput, **error_responses(401, 403, 404)},
    )
    def get(self, request, prompt_id: uuid.UUID, label: str):
        version = prompt_version_get(prompt=self.prompt(prompt_id), label=label)
        return Response(VersionOutput(found(version, "version with this label")).data)

    @extend_schema(
        operation_id="prompt_labels_set",
        summary="Point a label at a version (it moves from the version it was on)",
        parameters=[PROMPT_ID, LABEL],
        request=LabelInput,
        examples=[OpenApiExample("Move production", value={"version": 2}, request_only=True)],
        responses={200: LabelOutput, **error_responses(401, 403, 404, 413, 415, 422)},
    )
    def put(self, request, prompt_id: uuid.UUID, label: str):
        prompt = self.prompt(prompt_id)
        data = self.validated(self.LabelInput, request.data, where="body")
        version = prompt_version_get(prompt=prompt, number=data["version"])
        if version is None:
            raise Unprocessable([problem(["body", "version"], "No version with this number.", "not_found")])
        try:
            result = prompt_label_set(prompt=prompt, name=label, version=version)
        except Invalid as exc:
            # The label's name is the path's.
            raise Unprocessable.from_document_errors(exc.errors, where="path") from None
        return Response(self.LabelOutput(result).data)

    @extend_schema(
        operation_id="prompt_labels_delete",
        summary="Remove a label",
        parameters=[PROMPT_ID, LABEL],
        responses={204: OpenApiResponse(description="Removed."), **error_responses(401, 403, 404)},
    )
    def delete(self, request, prompt_id: uuid.UUID, label: str):
        if not prompt_label_remove(prompt=self.prompt(prompt_id), name=label):
            raise NotFound("No such label on this prompt.")
        return Response(status=status.HTTP_204_NO_CONTENT)
