"""Learned parameter rules of an integration: list, clear, pin into the document (integrations.parameter_rules)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.errors import Unprocessable
from api.schema import error_responses
from api.serializers import IntegrationReadSerializer, TimestampField
from api.views.base import OrganizationApi, found
from core.problems import Invalid
from integrations.models import Integration
from integrations.parameter_rules import (
    parameter_rule_clear,
    parameter_rule_get,
    parameter_rule_list,
    parameter_rule_pin,
)
from integrations.permissions import UPDATE, integration_permissions
from integrations.selectors import integration_list

INTEGRATION_PARAMETER = OpenApiParameter(
    "integration_id", str, OpenApiParameter.PATH, description="The integration's `id` (a UUID)."
)
RULE_PARAMETER = OpenApiParameter("rule_id", str, OpenApiParameter.PATH, description="The rule's `id` (a UUID).")


class ParameterRuleOutput(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    model = serializers.CharField(source="model_name", help_text="The model's `name` (sent to the provider).")
    parameter = serializers.CharField(
        help_text="A run parameter (max_tokens), or a key the runner adds itself (stream_options)."
    )
    action = serializers.ChoiceField(choices=["rename", "drop"])
    to = serializers.CharField(allow_null=True, help_text="rename: the wire name it goes out under; drop: null.")
    reason = serializers.CharField(help_text="What the provider answered (secrets removed).")
    learned_at = TimestampField()
    learned_from_run = serializers.UUIDField(allow_null=True, help_text="The run whose refusal taught the rule.")


class ParameterRuleApi(OrganizationApi):
    def integration_with(self, integration_id) -> Integration:
        integration = integration_list(organization=self.organization).filter(uuid=integration_id).first()
        return found(integration, "integration")

    def rule_of(self, integration: Integration, rule_id):
        return found(parameter_rule_get(integration=integration, rule_uuid=rule_id), "parameter rule")

    def require_update(self, integration: Integration) -> None:
        if UPDATE not in integration_permissions(integration=integration, user=self.request.user):
            raise PermissionDenied("Only admins and the integration's creator may change its parameter rules.")


class ParameterRuleListApi(ParameterRuleApi):
    @extend_schema(
        operation_id="integration_parameter_rules_list",
        summary="The parameter rules the runners learned for this integration's models",
        description=(
            "When a provider refuses a request because of a named parameter, the run retries once with it renamed "
            "(max_tokens <-> max_completion_tokens) or dropped, and the finding is kept here: later runs of that "
            "model apply it at once."
        ),
        parameters=[INTEGRATION_PARAMETER],
        responses={200: ParameterRuleOutput(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, integration_id):
        integration = self.integration_with(integration_id)
        return Response(ParameterRuleOutput(parameter_rule_list(integration=integration), many=True).data)


class ParameterRuleDetailApi(ParameterRuleApi):
    @extend_schema(
        operation_id="integration_parameter_rules_delete",
        summary="Clear a rule (admins and the creator): later runs send the parameter as the document says",
        parameters=[INTEGRATION_PARAMETER, RULE_PARAMETER],
        responses={204: OpenApiResponse(description="Cleared."), **error_responses(401, 403, 404)},
    )
    def delete(self, request, integration_id, rule_id):
        integration = self.integration_with(integration_id)
        rule = self.rule_of(integration, rule_id)
        self.require_update(integration)
        parameter_rule_clear(rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ParameterRulePinApi(ParameterRuleApi):
    @extend_schema(
        operation_id="integration_parameter_rules_pin",
        summary="Pin a rule into the document (admins and the creator)",
        description=(
            "A rename becomes the model's `parameter_names`; a drop removes the parameter from its "
            "`supported_parameters` (a model `based_on` a built-in gets that built-in's list without it). The "
            "document is saved as a PUT would save it (its ETag changes) and the rule is removed. A rule about a key "
            "that is not a run parameter (`stream_options`) cannot be pinned: 422."
        ),
        request=None,
        parameters=[INTEGRATION_PARAMETER, RULE_PARAMETER],
        responses={200: IntegrationReadSerializer, **error_responses(401, 403, 404, 422)},
    )
    def post(self, request, integration_id, rule_id):
        integration = self.integration_with(integration_id)
        rule = self.rule_of(integration, rule_id)
        self.require_update(integration)
        try:
            saved = parameter_rule_pin(rule=rule, user=request.user)
        except Invalid as exc:
            where = "path" if all(error.loc[:1] == ("rule",) for error in exc.errors) else "body"
            raise Unprocessable.from_document_errors(exc.errors, where=where) from None
        saved = integration_list(organization=self.organization).get(pk=saved.pk)
        return Response(IntegrationReadSerializer(saved, context={"user": request.user}).data)
