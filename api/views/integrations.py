"""Integrations: list, create-or-update from the document, read, delete, definition with secrets."""

import re

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from api.schema import DOCUMENT_EXAMPLES, error_responses
from api.selectors import integration_get_for_update
from api.serializers import (
    IntegrationDocument,
    IntegrationReadSerializer,
    IntegrationSummarySerializer,
    ModelOutputSerializer,
)
from api.views.base import OrganizationApi, found
from integrations.permissions import DELETE, READ_SECRETS, UPDATE, can_create_integrations, integration_permissions
from integrations.selectors import integration_get, integration_list_shown
from integrations.services import (
    NAME_MAX_LENGTH,
    IntegrationInUse,
    integration_delete,
    integration_document,
    integration_upsert,
    integration_version,
)

NAME_RE = re.compile(r"\A[-a-zA-Z0-9_]+\Z")
# An integration document is small; anything bigger is a mistake (or an attack).
MAX_DOCUMENT_BYTES = 256 * 1024

CONFIRM_PARAMETER = OpenApiParameter(
    "confirm",
    bool,
    OpenApiParameter.QUERY,
    required=False,
    description="`true` deletes the integration even though metrics or saved prompts use its models.",
)
CONFIRM_EDIT_PARAMETER = OpenApiParameter(
    "confirm",
    bool,
    OpenApiParameter.QUERY,
    required=False,
    description="`true` saves a document that renames or removes models which metrics or saved prompts use.",
)


class DependentSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["metric", "prompt"])
    id = serializers.CharField(help_text="The metric's or saved prompt's public id.")
    name = serializers.CharField()
    detail = serializers.CharField(help_text="Which model it needs: 'judge model \"GPT 5.2\"', 'v1 on \"GPT 5.2\"'.")
    url = serializers.CharField(help_text="Its page, or empty.")


class IntegrationInUseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    dependents = DependentSerializer(many=True)


NAME_PARAMETER = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    description="The integration's name: letters, digits, hyphens and underscores (a slug).",
    pattern=r"^[-a-zA-Z0-9_]{1,100}$",
    examples=[OpenApiExample("custom", value="custom")],
)


def _etag(integration) -> str:
    return f'"{integration_version(integration=integration)}"'


def _if_match(request) -> list[str] | None:
    """The entity tags of If-Match (quotes removed), or None without the header; weak tags never match a write."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [tag.strip() for tag in header.split(",")]
    return [tag.strip('"') for tag in tags if tag and not tag.startswith("W/")]


def _in_use(exc: IntegrationInUse) -> Response:
    """409: what a delete or an edit would break (IntegrationInUseSerializer)."""
    dependents = [item.as_dict() for item in exc.dependents]
    return Response({"detail": str(exc), "dependents": dependents}, status=status.HTTP_409_CONFLICT)


def _require(integration, user, permission: str, message: str) -> None:
    if permission not in integration_permissions(integration=integration, user=user):
        raise PermissionDenied(message)


class IntegrationApi(OrganizationApi):
    def integration_named(self, name: str):
        """The organisation's integration `name`, or 404 (also for names that cannot exist, such as "a.b")."""
        if not NAME_RE.fullmatch(name) or len(name) > NAME_MAX_LENGTH:
            raise NotFound("No integration here.")
        return found(integration_get(organization=self.organization, name=name), "integration")


class IntegrationListApi(OrganizationApi):
    @extend_schema(
        operation_id="integrations_list",
        summary="List your organisation's integrations",
        responses={200: IntegrationSummarySerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        integrations = integration_list_shown(organization=self.organization)
        return Response(IntegrationSummarySerializer(integrations, many=True, context={"user": request.user}).data)


class LlmIntegrationListApi(OrganizationApi):
    class LlmIntegrationOutput(serializers.Serializer):
        id = serializers.UUIDField(source="uuid")
        name = serializers.CharField()
        provider = serializers.CharField()
        default_model = serializers.CharField(help_text="The `name` of the default model.")
        models = ModelOutputSerializer(many=True, source="models.all")

    @extend_schema(
        operation_id="llm_integrations_list",
        summary="Models of every integration, with their supported parameters",
        responses={200: LlmIntegrationOutput(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        integrations = integration_list_shown(organization=self.organization, with_models=True)
        return Response(self.LlmIntegrationOutput(integrations, many=True).data)


def _custom_integration_schema(prefix: str, *, named: bool):
    parameters = [NAME_PARAMETER] if named else []
    which = "the integration `{name}`" if named else "the integration named `custom`"
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"{prefix}_get",
            summary=f"Read {which} (secrets as ********)",
            parameters=parameters,
            responses={200: IntegrationReadSerializer, **error_responses(401, 403, 404)},
        ),
        put=extend_schema(
            operation_id=f"{prefix}_put",
            summary=f"Create or update {which} from the document",
            description=(
                "The body is the integration document. Members may create integrations; only admins and the "
                'creator may update one. Send "********" for a secret to keep the stored value. '
                f"Bodies are limited to {MAX_DOCUMENT_BYTES // 1024} KiB. Send `If-Match` with the `ETag` of "
                "your GET to refuse (412) a write over a change made since; without it the document is saved. "
                "When the document renames or removes a model (its alias) that metrics judge with or saved prompt "
                "versions are written for, the answer is 409 with their list (`dependents`, as for DELETE) and "
                "nothing is saved: they would stop working. Ask again with `?confirm=true` to save it anyway."
            ),
            parameters=[*parameters, CONFIRM_EDIT_PARAMETER],
            request=IntegrationDocument,
            examples=DOCUMENT_EXAMPLES,
            responses={
                200: IntegrationReadSerializer,
                **error_responses(401, 403, 412, 413, 415, 422),
                409: OpenApiResponse(
                    IntegrationInUseSerializer, description="Drops models in use; not saved without confirm."
                ),
            },
        ),
        delete=extend_schema(
            operation_id=f"{prefix}_delete",
            summary=f"Delete {which} (admins and its creator)",
            description=(
                "When metrics judge with one of its models, or saved prompt versions are written for one, the answer "
                "is 409 with their list (`dependents`) and nothing is deleted: they would stop working. Ask again "
                "with `?confirm=true` to delete it anyway."
            ),
            parameters=[*parameters, CONFIRM_PARAMETER],
            responses={
                204: OpenApiResponse(description="Deleted."),
                **error_responses(401, 403, 404, 422),
                409: OpenApiResponse(IntegrationInUseSerializer, description="In use; not deleted without confirm."),
            },
        ),
    )


class CustomIntegrationApi(IntegrationApi):
    max_body_bytes = MAX_DOCUMENT_BYTES

    class ConfirmInput(serializers.Serializer):
        confirm = serializers.BooleanField(required=False, default=False)

    def confirmed(self, request) -> bool:
        """`?confirm=` as a boolean (true/false, 1/0, yes/no); anything else is a 422 at query.confirm."""
        return self.validated(self.ConfirmInput, request.query_params, where="query")["confirm"]

    class IntegrationPathInput(serializers.Serializer):
        name = serializers.RegexField(
            NAME_RE,
            max_length=NAME_MAX_LENGTH,
            trim_whitespace=False,
            error_messages={"invalid": "Use letters, digits, hyphens and underscores only."},
        )

    def get(self, request, name="custom"):
        integration = self.integration_named(name)
        data = IntegrationReadSerializer(integration, context={"user": request.user}).data
        return Response(data, headers={"ETag": _etag(integration)})

    def put(self, request, name="custom"):
        self.validated(self.IntegrationPathInput, {"name": name}, where="path")
        document = request.data  # parsed (415, 413, 422 for malformed JSON) before any lock is taken
        confirm = self.confirmed(request)
        with transaction.atomic():
            # Locked, so that the permission checked is the one of the row we replace.
            existing = integration_get_for_update(organization=self.organization, name=name)
            if existing is not None:
                _require(existing, request.user, UPDATE, "Only admins and the integration's creator may change it.")
            elif not can_create_integrations(user=request.user):
                raise PermissionDenied("You may not add integrations.")
            try:
                integration_upsert(
                    organization=self.organization,
                    user=request.user,
                    name=name,
                    document=document,
                    if_match=_if_match(request),
                    confirm=confirm,
                )
            except IntegrationInUse as exc:
                return _in_use(exc)
        integration = integration_get(organization=self.organization, name=name)
        data = IntegrationReadSerializer(integration, context={"user": request.user}).data
        return Response(data, headers={"ETag": _etag(integration)})

    def delete(self, request, name="custom"):
        integration = self.integration_named(name)
        _require(integration, request.user, DELETE, "Only admins and the integration's creator may delete it.")
        try:
            integration_delete(integration=integration, confirm=self.confirmed(request))
        except IntegrationInUse as exc:
            return _in_use(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)


@_custom_integration_schema("integration_custom", named=False)
class DefaultCustomIntegrationApi(CustomIntegrationApi):
    pass  # /integrations/custom: the integration named `custom` (the vendor's path)


@_custom_integration_schema("integration_custom_named", named=True)
class NamedCustomIntegrationApi(CustomIntegrationApi):
    pass  # /integrations/custom/{name}


class IntegrationDefinitionApi(IntegrationApi):
    @extend_schema(
        operation_id="integration_custom_named_definition",
        summary="The document with its real secrets (admins and the creator)",
        parameters=[NAME_PARAMETER],
        responses={200: IntegrationDocument, **error_responses(401, 403, 404)},
    )
    def get(self, request, name):
        integration = self.integration_named(name)
        _require(
            integration, request.user, READ_SECRETS, "Only admins and the integration's creator may read its secrets."
        )
        document = integration_document(integration=integration, reveal_secrets=True)
        return Response(document, headers={"Cache-Control": "no-store"})
