"""Reads for integrations, always scoped to an organisation."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from integrations.models import Integration, ModelProperty

# Encrypted columns: loading one decrypts it (integrations.encryption.EncryptedField.from_db_value).
SECRET_FIELDS = ("api_key_value", "token", "headers", "tls_client_key")


def integration_list(*, organization) -> QuerySet[Integration]:
    """Every integration with its models and its secrets (decrypted as they load): for reads that need them."""
    return (
        Integration.objects.filter(organization=organization)
        .select_related("created_by")
        .prefetch_related(Prefetch("models", queryset=ModelProperty.objects.order_by("position")))
        .order_by("name")
    )


def integration_list_shown(*, organization, with_models: bool = False) -> QuerySet[Integration]:
    """The integrations as lists show them, by name: without their secrets (never decrypted), and with their models
    only when asked (one more query)."""
    integrations = (
        Integration.objects.filter(organization=organization)
        .select_related("created_by")
        .defer(*SECRET_FIELDS)
        .order_by("name")
    )
    if with_models:
        integrations = integrations.prefetch_related(
            Prefetch("models", queryset=ModelProperty.objects.order_by("position"))
        )
    return integrations


def integration_get(*, organization, name: str) -> Integration | None:
    return integration_list(organization=organization).filter(name=name).first()


def model_get(*, organization, alias: str) -> ModelProperty | None:
    return ModelProperty.objects.filter(organization=organization, alias=alias).select_related("integration").first()


def model_groups(*, organization) -> list[dict[str, Any]]:
    """The organisation's models grouped by integration, for the Model select (and the page's script)."""
    groups = []
    for integration in integration_list_shown(organization=organization, with_models=True):
        models = [
            {
                "alias": model.alias,
                "name": model.name,
                "supported_parameters": list(model.supported_parameters),
                "is_default": model.name == integration.default_model,
            }
            for model in integration.models.all()
        ]
        if models:
            groups.append({"integration": integration.name, "models": models})
    return groups


def default_alias(groups: list[dict[str, Any]]) -> str | None:
    """The first integration's default model (what a fresh Playground selects)."""
    for group in groups:
        for model in group["models"]:
            if model["is_default"]:
                return model["alias"]
    return groups[0]["models"][0]["alias"] if groups else None
