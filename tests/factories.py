import copy

import factory
from django.contrib.auth import get_user_model

from integrations.services import integration_upsert
from organizations.models import Membership, Organization, Project, Role


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Org {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a membership: UserFactory(organization=org, role=Role.ADMIN)."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")

    @classmethod
    def _create(cls, model_class, *args, organization=None, role=Role.MEMBER, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        Membership.objects.create(user=user, organization=organization or OrganizationFactory(), role=role)
        return user


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


# The product page's first model: gpt-5.2 listing max_tokens among its supported parameters.
SEED_GPT_52 = {
    "name": "gpt-5.2",
    "alias": "GPT 5.2",
    "supported_parameters": [
        "max_tokens",
        "n",
        "reasoning_effort",
        "stop_sequences",
        "temperature",
        "tool_choice",
        "tools",
        "verbosity",
    ],
}


def api_key_document(endpoint="https://provider.example/v1", **overrides) -> dict:
    """The seed's API-key example, adaptable to a test provider."""
    document = {
        "authentication_type": "api_key",
        "api_key_header": "x-portkey-api-key",
        "api_key_value": "sk-test-ABC123",
        "model_properties": [
            copy.deepcopy(SEED_GPT_52),
            {"name": "gpt-5.4", "alias": "GPT 5.4", "based_on": "gpt-5.4"},
            {"name": "claude-opus-4-6", "alias": "Opus 4.6", "based_on": "Claude Opus 4.6"},
        ],
        "endpoint": endpoint,
    }
    document.update(overrides)
    return document


def make_integration(*, organization, user=None, name="custom", document=None):
    return integration_upsert(organization=organization, user=user, name=name, document=document or api_key_document())
