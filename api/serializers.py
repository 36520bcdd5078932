"""Fields and serializers shared by several API views (each view keeps its own Input/Output)."""

from collections.abc import Mapping
from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from integrations.document import IntegrationDocumentIn
from integrations.permissions import integration_permissions
from integrations.services import integration_document


class IntegrationDocument(IntegrationDocumentIn):
    """The integration document of the seed (schema only; parse_document validates it).

    Read back, `api_key_value`, `token` and every `headers` value are "********";
    sending "********" back keeps the stored secret.
    """


class TimestampField(serializers.DateTimeField):
    """ISO 8601 in UTC, always with microseconds: 2026-11-24T19:41:48.123456Z."""

    def to_representation(self, value):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class StrictCharField(serializers.CharField):
    """A JSON string; DRF's CharField would also take 5 or 1.5 and turn them into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInput(serializers.Serializer):
    """A JSON object input that refuses keys it does not declare (a misspelt field must not be an edit silently
    lost): each unknown key is a problem at its own path, type `extra_forbidden`, alongside the fields' problems."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            allowed = ", ".join(name for name, field in self.fields.items() if not field.read_only)
            unknown = {
                key: [ErrorDetail(f"Unknown field; the fields are: {allowed}.", code="extra_forbidden")]
                for key in data
                if key not in self.fields
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictBooleanField(serializers.BooleanField):
    """true or false; DRF's BooleanField would also take "yes", "on" and 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class LocPartField(serializers.Field):
    def to_representation(self, value):
        return value


class ProblemSerializer(serializers.Serializer):
    loc = serializers.ListField(child=LocPartField(), help_text='Where: "body", "query" or "path", then the path.')
    msg = serializers.CharField()
    type = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    detail = ProblemSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ModelOutputSerializer(serializers.Serializer):
    alias = serializers.CharField(help_text="Unique in the organisation; what runs name as `model`.")
    name = serializers.CharField(help_text="The provider's model name, sent verbatim.")
    based_on = serializers.CharField(allow_null=True, help_text="The built-in model it copies its parameters from.")
    supported_parameters = serializers.ListField(child=serializers.CharField())
    parameter_names = serializers.DictField(
        child=serializers.CharField(),
        help_text="Run parameter -> the wire name it goes out under, where it is not the usual one.",
    )
    is_default = serializers.BooleanField()

    def to_representation(self, instance):
        return {
            "alias": instance.alias,
            "name": instance.name,
            "based_on": instance.based_on or None,
            "supported_parameters": list(instance.supported_parameters),
            "parameter_names": dict(instance.parameter_names or {}),
            "is_default": instance.is_default,
        }


class IntegrationSummarySerializer(serializers.Serializer):
    """An integration as listed: who made it and what the caller may do with it."""

    id = serializers.UUIDField(source="uuid")
    name = serializers.CharField()
    provider = serializers.CharField()
    created_at = TimestampField()
    updated_at = TimestampField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, integration) -> list[str]:
        return integration_permissions(integration=integration, user=self.context["user"])


class IntegrationReadSerializer(IntegrationSummarySerializer):
    """An integration with its document (secrets as "********") and its models."""

    document = serializers.SerializerMethodField()
    models = ModelOutputSerializer(many=True, source="models.all")
    oauth2_token_auth_method_learned = serializers.SerializerMethodField(
        help_text="OAuth2 only: the client authentication method the token endpoint accepted when the document names "
        "none (the runners try client_secret_post, then client_secret_basic after an invalid_client), and when; "
        'null before the first token or for other authentication types. Pin it with "oauth2_token_auth_method".'
    )

    @extend_schema_field({"$ref": "#/components/schemas/IntegrationDocument"})
    def get_document(self, integration) -> dict:
        return integration_document(integration=integration, reveal_secrets=False)

    @extend_schema_field(
        {
            "type": ["object", "null"],
            "properties": {
                "method": {"type": "string", "enum": ["client_secret_post", "client_secret_basic"]},
                "learned_at": {"type": "string", "format": "date-time"},
            },
            "required": ["method", "learned_at"],
        }
    )
    def get_oauth2_token_auth_method_learned(self, integration) -> dict | None:
        if integration.authentication_type != "oauth2" or not integration.oauth2_token_auth_method_learned:
            return None
        return {
            "method": integration.oauth2_token_auth_method_learned,
            "learned_at": TimestampField().to_representation(integration.oauth2_token_auth_method_learned_at),
        }
