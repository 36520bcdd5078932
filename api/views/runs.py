"""Runs: start one on a model (202, a worker does it), read one, list them."""

import re
import uuid

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.errors import Unprocessable, problem
from api.pagination import RunCursorPagination
from api.schema import RUN_EXAMPLES, error_responses
from api.selectors import job_get_scoped, job_writable_by, run_list_filtered
from api.serializers import StrictBooleanField, StrictCharField, TimestampField
from api.views.base import OrganizationApi, found
from integrations.selectors import integration_get
from runners.cancellation import can_cancel, run_cancel
from runners.models import Job, RunStatus
from runners.parameters import RunParameters
from runners.presenters import run_representation
from runners.selectors import (
    OUTPUT_PREVIEW_LENGTH,
    run_get,
    run_live_output,
    run_output_preview,
    runs_with_output_preview,
)
from runners.services import MAX_MESSAGES, ROLES, RunRequest, runs_start

MESSAGES_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_MESSAGES,
    "items": {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"type": "string", "enum": list(ROLES)},
            "content": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "description": 'Content parts, such as {"type": "text", "text": "..."}.'},
                ]
            },
        },
    },
}


def _parameters_schema() -> dict:
    schema = RunParameters.model_json_schema()
    # validate_parameters also takes one stop string, and `stop` for `stop_sequences`.
    stop = schema["properties"]["stop_sequences"]
    stop["anyOf"].insert(1, {"type": "string", "minLength": 1})
    schema["properties"]["stop"] = {**stop, "title": "Stop (same as stop_sequences)"}
    schema["title"] = "RunParameters"
    schema["description"] = (
        "Run parameters by name. An unknown name is a 422; a known parameter that the model does not support is "
        "dropped and listed in `dropped_parameters`."
    )
    return schema


PARAMETERS_SCHEMA = _parameters_schema()


@extend_schema_field(MESSAGES_SCHEMA)
class MessagesField(serializers.JSONField):
    """Checked by run_enqueue, which owns the rules for messages."""


@extend_schema_field({"anyOf": [PARAMETERS_SCHEMA, {"type": "null"}]})
class ParametersField(serializers.JSONField):
    """Checked by run_enqueue, which owns the rules for parameters (except the one below)."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and "stop" in data and "stop_sequences" in data:
            # Both would silently resolve to whichever came last.
            raise serializers.ValidationError({"stop": "Give stop or stop_sequences, not both."})
        return super().to_internal_value(data)


@extend_schema_field({"type": ["object", "null"]})
class NullableObjectField(serializers.JSONField):
    pass


UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


class StrictUUIDField(serializers.UUIDField):
    """A UUID in its usual text form (DRF would also take integers, bare hex and "urn:uuid:...")."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not UUID_RE.match(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class AppliedRuleOutput(serializers.Serializer):
    parameter = serializers.CharField(
        help_text="A run parameter (max_tokens) or a key of the runner's (stream_options)."
    )
    action = serializers.ChoiceField(choices=["rename", "drop"])
    to = serializers.CharField(allow_null=True, help_text="The wire name it went out under (rename), else null.")
    rule = serializers.UUIDField(allow_null=True, help_text="The rule's id.")


class RunOutputSerializer(serializers.Serializer):
    """Documents a run read for the schema; the JSON itself is runners.presenters.run_representation."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    integration = serializers.CharField(source="integration_name", help_text="The integration's name.")
    model = serializers.CharField(source="model_alias", help_text="The model's alias.")
    model_name = serializers.CharField(help_text="The provider's model name that was requested.")
    job = serializers.UUIDField(source="job_id", allow_null=True)
    stream = serializers.BooleanField()
    messages = serializers.JSONField()
    prompt_version = serializers.UUIDField(
        source="prompt_version_id",
        allow_null=True,
        help_text="The saved prompt version the messages came from (`/api/v2/prompts/...`), or null.",
    )
    parameters = serializers.JSONField(help_text="The run's parameters, validated (before dropping).")
    dropped_parameters = serializers.ListField(
        child=serializers.CharField(),
        help_text="Parameters not sent: the model does not support them, or a learned rule drops them.",
    )
    applied_rules = AppliedRuleOutput(
        many=True,
        help_text="The learned parameter rules this run applied (GET /integrations/{id}/parameter-rules lists them).",
    )
    output = serializers.SerializerMethodField(help_text="The answer; while running and streaming, the text so far.")
    finish_reason = serializers.CharField(allow_null=True)
    tool_calls = serializers.SerializerMethodField(
        help_text='The tools the model called, in OpenAI\'s shape: [{"id", "type": "function", "function": {"name", '
        '"arguments"}}] (`arguments`: the JSON text the model wrote); null when it called none.'
    )
    reasoning = serializers.CharField(
        allow_null=True,
        help_text="The model's reasoning (`reasoning_content` or `reasoning` in its answer), or null.",
    )
    usage = NullableObjectField(allow_null=True, help_text="Token usage as the provider reported it.")
    latency_ms = serializers.FloatField(allow_null=True)
    time_to_first_token_ms = serializers.FloatField(
        allow_null=True,
        help_text="Streamed runs: milliseconds from sending the request to the first output (text, reasoning or a "
        "tool call); null when the run did not stream or nothing came. Tokens per second while writing: "
        "usage.completion_tokens / ((latency_ms - time_to_first_token_ms) / 1000).",
    )
    error = serializers.SerializerMethodField()
    request = NullableObjectField(allow_null=True, help_text="The request as sent, secrets as ********.")
    attempts = serializers.IntegerField()
    created_at = TimestampField()
    started_at = TimestampField(allow_null=True)
    finished_at = TimestampField(allow_null=True)
    output_truncated = serializers.SerializerMethodField(
        help_text=f"True in a list read when `output` is only its first {OUTPUT_PREVIEW_LENGTH:,} characters (read "
        "the run for all of it); always false in a run's own read."
    )

    def to_representation(self, run):
        return run_representation(run)

    @extend_schema_field({"type": ["string", "null"]})
    def get_output(self, run):
        return run_live_output(run)

    @extend_schema_field(serializers.BooleanField())
    def get_output_truncated(self, run) -> bool:
        return False

    @extend_schema_field(
        {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string", "enum": ["function"]},
                    "function": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
                        "required": ["name", "arguments"],
                    },
                },
                "required": ["id", "type", "function"],
            },
        }
    )
    def get_tool_calls(self, run):
        return run.tool_calls

    @extend_schema_field(
        {
            "type": ["object", "null"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            "required": ["type", "message"],
        }
    )
    def get_error(self, run):
        return run.error


class RunListItemSerializer(RunOutputSerializer):
    """A run in a list: `output` cut to a preview (runners.selectors.runs_with_output_preview)."""

    def to_representation(self, run):
        return run_representation(run, preview=True)

    @extend_schema_field({"type": ["string", "null"]})
    def get_output(self, run):
        return run_output_preview(run)[0]

    @extend_schema_field(serializers.BooleanField())
    def get_output_truncated(self, run) -> bool:
        return run_output_preview(run)[1]


def _resolve_references(organization, user, data: dict):
    """The model and job a run request names, or a 422 pointing at the field that names nothing."""
    integration = integration_get(organization=organization, name=data["integration"])
    if integration is None:
        message = f'No integration named "{data["integration"]}".'
        raise Unprocessable([problem(["body", "integration"], message, "not_found")])
    models = list(integration.models.all())
    model = next((m for m in models if m.alias == data["model"]), None)
    if model is None:
        aliases = ", ".join(f'"{m.alias}"' for m in models)
        message = f'No model "{data["model"]}" in this integration; use one of {aliases}.'
        raise Unprocessable([problem(["body", "model"], message, "not_found")])
    job = None
    if data.get("job") is not None:
        job = job_get_scoped(organization=organization, job_id=data["job"])
        if job is None:
            raise Unprocessable([problem(["body", "job"], "No such job in your organisation.", "not_found")])
        if not job_writable_by(job=job, user=user):
            message = "Runs can be added only to API jobs you started (not to evaluations, tests or others' jobs)."
            raise Unprocessable([problem(["body", "job"], message, "job_not_writable")])
    return model, job


class RunsApi(OrganizationApi):
    class RunCreateInput(serializers.Serializer):
        integration = StrictCharField(max_length=100, help_text="The integration's name.")
        model = StrictCharField(max_length=255, help_text="The model's alias in that integration.")
        messages = MessagesField()
        parameters = ParametersField(required=False, allow_null=True)
        stream = StrictBooleanField(required=False, default=False, help_text="Ask the provider to stream.")
        job = StrictUUIDField(
            required=False, allow_null=True, help_text="Add the run to this job; by default a new API job."
        )

    class RunCreatedOutput(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.ChoiceField(choices=RunStatus.choices)
        job = serializers.UUIDField(source="job_id")
        dropped_parameters = serializers.ListField(child=serializers.CharField())

    class RunFilterInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
        integration = serializers.CharField(required=False, max_length=100, help_text="An integration's name.")
        model = serializers.CharField(required=False, max_length=255, help_text="A model's alias.")
        job = StrictUUIDField(required=False)
        cursor = serializers.CharField(required=False, help_text="From a `next` or `previous` link.")
        limit = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=RunCursorPagination.max_page_size,
            help_text=f"Page size (default {RunCursorPagination.page_size}).",
        )

    class RunPageOutput(serializers.Serializer):
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = RunListItemSerializer(many=True)

    @extend_schema(
        operation_id="runs_list",
        summary="List runs, newest first (cursor pagination)",
        description="Follow `next` for older runs. Filters combine with AND.",
        parameters=[RunFilterInput],
        responses={200: RunPageOutput, **error_responses(401, 403, 422)},
    )
    def get(self, request):
        # A plain dict, not the QueryDict: DRF reads an empty value in a QueryDict as "not given",
        # which would make `?status=` list every run instead of being the error it is.
        filters = self.validated(self.RunFilterInput, request.query_params.dict(), where="query")
        runs = run_list_filtered(
            organization=self.organization,
            **{key: filters.get(key) for key in ("status", "integration", "model", "job")},
        )
        paginator = RunCursorPagination()
        page = paginator.paginate_queryset(runs_with_output_preview(runs), request, view=self)
        return paginator.get_paginated_response(RunListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="runs_create",
        summary="Start a run on a model; a worker executes it",
        description=(
            "Answers 202 at once; poll `GET /api/v2/runs/{id}`. An unknown integration or model alias is a 422 "
            '(`loc` `["body", "integration"]` or `["body", "model"]`), like any other invalid body.'
        ),
        request=RunCreateInput,
        examples=RUN_EXAMPLES,
        responses={202: RunCreatedOutput, **error_responses(401, 403, 413, 415, 422)},
    )
    def post(self, request):
        data = self.validated(self.RunCreateInput, request.data, where="body")
        organization = self.organization
        model, job = _resolve_references(organization, request.user, data)
        asked = RunRequest(
            model=model, messages=data["messages"], parameters=data.get("parameters"), stream=data["stream"]
        )
        try:
            _, (run,) = runs_start(
                organization=organization, user=request.user, kind=Job.Kind.API, job=job, requests=[asked]
            )
        except IntegrityError:
            # The integration (or the job) was deleted between the lookup and the commit (foreign keys are checked
            # at commit): the same answer as if it had gone a moment earlier.
            message = f'No integration named "{data["integration"]}" (it was deleted meanwhile).'
            raise Unprocessable([problem(["body", "integration"], message, "not_found")]) from None
        return Response(
            self.RunCreatedOutput(run).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v2/runs/{run.pk}"},
        )


class RunDetailApi(OrganizationApi):
    @extend_schema(
        operation_id="runs_get",
        summary="A run: status, output, usage, timings, error",
        responses={200: RunOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, run_id: uuid.UUID):
        run = found(run_get(organization=self.organization, run_id=run_id), "run")
        return Response(RunOutputSerializer(run).data)


class RunCancelApi(OrganizationApi):
    @extend_schema(
        operation_id="runs_cancel",
        summary="Stop a run (the member who started it and admins)",
        description=(
            "A queued run fails at once with error type `cancelled` and never reaches the provider (200). A running "
            "run is signalled (202): its worker abandons the request within a quarter of a second, closing the "
            "connection, and stores it `failed` with error type `cancelled` and the output received so far; poll "
            "`GET /api/v2/runs/{id}`. A finished run is left as it is (200). Another organisation's run is a 404."
        ),
        request=None,
        responses={200: RunOutputSerializer, 202: RunOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request, run_id: uuid.UUID):
        run = found(run_get(organization=self.organization, run_id=run_id), "run")
        if not can_cancel(user=request.user, run=run):
            raise PermissionDenied("Only admins and the member who started the run may stop it.")
        result = run_cancel(run=run)
        code = status.HTTP_202_ACCEPTED if result.action == "signalled" else status.HTTP_200_OK
        return Response(RunOutputSerializer(result.run).data, status=code)
