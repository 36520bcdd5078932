"""Reads for integrations, always scoped to an organisation."""

from django.db.models import Prefetch, QuerySet

from integrations.models import Integration, ModelProperty


def integration_list(*, organization) -> QuerySet[Integration]:
    return (
        Integration.objects.filter(organization=organization)
        .select_related("created_by")
        .prefetch_related(Prefetch("models", queryset=ModelProperty.objects.order_by("position")))
        .order_by("name")
    )


def integration_get(*, organization, name: str) -> Integration | None:
    return integration_list(organization=organization).filter(name=name).first()


def model_get(*, organization, alias: str) -> ModelProperty | None:
    return ModelProperty.objects.filter(organization=organization, alias=alias).select_related("integration").first()
