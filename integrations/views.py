"""Settings > Integrations: the list, the JSON editor and delete. Thin: services do the work.

The connection Test (its button, results page and the list's "Last test") is the runners' (runners/views.py).
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.problems import Invalid
from integrations.catalogue import builtin_models_by_provider
from integrations.dependents import integration_dependents
from integrations.editor import annotate_errors
from integrations.forms import IntegrationDocumentForm
from integrations.parameter_rules import parameter_rule_clear, parameter_rule_get, parameter_rule_pin
from integrations.permissions import DELETE, UPDATE, can_create_integrations, integration_permissions
from integrations.selectors import integration_get, integration_list_shown
from integrations.services import (
    IntegrationChanged,
    IntegrationInUse,
    integration_delete,
    integration_oauth2_method_pin,
)
from integrations.tls import certificate_summaries

# Built-in providers, in the order the cards show them, with what their catalogue is for.
PROVIDER_CARDS = [
    ("OpenAI", "GPT-4o, GPT-4.1, GPT-5 and the o-series reasoning models."),
    ("Anthropic", "Claude Haiku, Sonnet and Opus."),
    ("Azure", "OpenAI models deployed on Azure."),
    ("AWS Bedrock", "Amazon Nova, Claude, Llama, Mistral and more on Bedrock."),
    ("Vertex AI", "Gemini models on Google Cloud."),
    ("Mistral", "Ministral models."),
    ("NVIDIA", "NIM-hosted open models."),
    ("Writer", "Palmyra models."),
    ("Databricks", "Llama models served by Databricks."),
]


class NewIntegrationForm(IntegrationDocumentForm):
    """Adding never replaces: the upsert would overwrite an integration the user may not be allowed to change."""

    def clean_name(self):
        name = self.cleaned_data["name"]
        if integration_get(organization=self.fixed_organization, name=name) is not None:
            raise ValidationError(f"An integration named “{name}” already exists. Pick another name, or edit that one.")
        return name


# Starting points offered next to the editor: the seed's examples, one per way of authenticating.
EXAMPLES = [
    (
        "API key",
        {
            "authentication_type": "api_key",
            "api_key_header": "x-portkey-api-key",
            "api_key_value": "YOUR_API_KEY_VALUE",
            "model_properties": [
                {"name": "gpt-5.4", "alias": "GPT 5.4", "based_on": "gpt-5.4"},
                {"name": "claude-opus-4-6", "alias": "Opus 4.6", "based_on": "Claude Opus 4.6"},
            ],
            "endpoint": "https://api.portkey.ai/v1",
        },
    ),
    (
        "Bearer token",
        {
            "authentication_type": "api_key",
            "api_key_header": "Authorization",
            "api_key_value": "Bearer YOUR_TOKEN",
            "model_properties": [
                {
                    "name": "meta-llama/Llama-4-Scout-17B-16E-Instruct",
                    "alias": "Llama 4 Scout",
                    "supported_parameters": ["max_tokens", "stop_sequences", "temperature", "top_p"],
                }
            ],
            "endpoint": "https://api.together.xyz/v1",
        },
    ),
    (
        "OAuth2",
        {
            "authentication_type": "oauth2",
            "oauth2_token_url": "https://auth.provider.com/oauth2/token",
            "token": '{"client_id": "YOUR_CLIENT_ID", "client_secret": "YOUR_CLIENT_SECRET"}',
            "authentication_scope": "inference",
            "model_properties": [
                {
                    "name": "provider-model-v2",
                    "alias": "Provider Model v2",
                    "supported_parameters": ["max_tokens", "temperature", "top_p"],
                }
            ],
            "endpoint": "https://api.provider.com/v1",
        },
    ),
    (
        "No authentication",
        {
            "authentication_type": "none",
            "model_properties": [
                {
                    "name": "internal-model-v1",
                    "alias": "Internal Model",
                    "supported_parameters": ["max_tokens", "temperature", "top_p"],
                }
            ],
            "endpoint": "https://internal-gateway.local/v1",
        },
    ),
]


def membership_of(request):
    """The user's membership; a user outside any organisation may not use these pages."""
    membership = getattr(request.user, "membership", None)
    if membership is None:
        raise PermissionDenied("Your account does not belong to an organisation.")
    return membership


def _integration_or_404(request, name):
    integration = integration_get(organization=membership_of(request).organization, name=name)
    if integration is None:
        raise Http404("No such integration.")
    return integration


def _require(permission, integration, user):
    if permission not in integration_permissions(integration=integration, user=user):
        raise PermissionDenied("Only admins and the integration's creator may do this.")


@login_required
def integration_settings(request):
    membership = membership_of(request)
    catalogue = builtin_models_by_provider()
    integrations = list(
        integration_list_shown(organization=membership.organization, with_models=True).prefetch_related(
            "parameter_rules"
        )
    )
    rows = []
    for integration in integrations:
        permissions = integration_permissions(integration=integration, user=request.user)
        certificates = certificate_summaries(
            ca_bundle=integration.tls_ca_bundle, client_certificate=integration.tls_client_certificate
        )
        rows.append(
            {
                "integration": integration,
                "permissions": permissions,
                "can_update": UPDATE in permissions,
                "certificates": certificates,
            }
        )
    providers = [
        {"name": name, "description": description, "models": catalogue.get(name, [])}
        for name, description in PROVIDER_CARDS
    ]
    return render(
        request,
        "integrations/settings.html",
        {
            "rows": rows,
            "providers": providers,
            "can_create": can_create_integrations(user=request.user),
        },
    )


def _editor(request, integration=None):
    membership = membership_of(request)
    form_kwargs = {"organization": membership.organization, "user": request.user, "instance": integration}
    form_class = IntegrationDocumentForm if integration else NewIntegrationForm
    if request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            saved = form.save()
            count = saved.models.count()
            verb = "Updated" if integration else "Added"
            plural = "s" if count != 1 else ""
            messages.success(request, f"{verb} integration “{saved.name}” with {count} model{plural}.")
            return redirect("integrations:settings")
        text = request.POST.get("document", "")
    else:
        form = form_class(**form_kwargs)
        text = form.initial.get("document", "")
    # Name errors show on the name field; the rest next to the JSON, each with its line.
    errors = annotate_errors(text, [error for error in form.document_errors if error["loc"] != ["name"]])
    return render(
        request,
        "integrations/editor.html",
        {
            "form": form,
            "integration": integration,
            "document_errors": errors,
            "error_lines": sorted({error["line"] for error in errors if error["line"]}),
            "catalogue": builtin_models_by_provider(),
            "examples": {label: json.dumps(document, indent=2) for label, document in EXAMPLES},
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def integration_create(request):
    if not can_create_integrations(user=request.user):
        raise PermissionDenied
    return _editor(request)


@login_required
@require_http_methods(["GET", "POST"])
def integration_edit(request, name):
    integration = _integration_or_404(request, name)
    _require(UPDATE, integration, request.user)
    return _editor(request, integration)


@login_required
@require_http_methods(["GET", "POST"])
def integration_delete_view(request, name):
    integration = _integration_or_404(request, name)
    _require(DELETE, integration, request.user)
    refused = None
    if request.method == "POST":
        # The page lists what would break and its button confirms; a POST without `confirm` (another client) is
        # refused while something uses the models.
        try:
            integration_delete(integration=integration, confirm=request.POST.get("confirm") == "true")
        except IntegrationInUse as exc:
            refused = str(exc)
        else:
            messages.success(request, f"Deleted integration “{name}”.")
            return redirect("integrations:settings")
    return render(
        request,
        "integrations/confirm_delete.html",
        {"integration": integration, "dependents": integration_dependents(integration=integration), "refused": refused},
        status=409 if refused else 200,
    )


def _rule_or_404(request, name, rule_id):
    integration = _integration_or_404(request, name)
    _require(UPDATE, integration, request.user)
    rule = parameter_rule_get(integration=integration, rule_uuid=rule_id)
    if rule is None:
        raise Http404("No such rule.")
    return rule


def _back_to(name: str):
    return redirect(reverse("integrations:settings") + f"#integration-{name}")


@login_required
@require_POST
def parameter_rule_clear_view(request, name, rule_id):
    rule = _rule_or_404(request, name, rule_id)
    parameter_rule_clear(rule=rule)
    messages.success(request, f"Cleared the rule for “{rule.parameter}” of {rule.model_name}.")
    return _back_to(name)


@login_required
@require_POST
def parameter_rule_pin_view(request, name, rule_id):
    rule = _rule_or_404(request, name, rule_id)
    try:
        parameter_rule_pin(rule=rule, user=request.user)
    except Invalid as exc:
        messages.error(request, " ".join(error.message for error in exc.errors))
    else:
        messages.success(request, f"Pinned the rule for “{rule.parameter}” of {rule.model_name} into the document.")
    return _back_to(name)


@login_required
@require_POST
def integration_oauth2_method_pin_view(request, name):
    """Pin the OAuth2 client authentication method the token endpoint accepted into the document."""
    integration = _integration_or_404(request, name)
    _require(UPDATE, integration, request.user)
    try:
        integration_oauth2_method_pin(integration=integration, user=request.user)
    except Invalid as exc:
        messages.error(request, " ".join(error.message for error in exc.errors))
    except IntegrationChanged:
        messages.error(request, f"“{name}” was saved by someone else meanwhile; look at it again and retry.")
    else:
        method = integration.oauth2_token_auth_method_learned
        messages.success(request, f"“{name}” now names oauth2_token_auth_method “{method}” in its document.")
    return redirect(f"{reverse('integrations:settings')}#integration-{name}")
