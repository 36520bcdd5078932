import pytest
from django.test import Client

from tests.factories import api_key_document, make_integration

# Distinctive secrets that must never appear in any page's HTML.
PLANTED_KEY = "sk-PLANTED-7c1f9e2a4b"
PLANTED_HEADER = "hdr-PLANTED-55aa31"


@pytest.fixture
def secret_document():
    return api_key_document(
        endpoint="https://provider.example/v1",
        api_key_value=PLANTED_KEY,
        headers={"X-Tenant-Secret": PLANTED_HEADER},
    )


@pytest.fixture
def integration(org, admin_user, secret_document):
    """An integration created by the admin, carrying the planted secrets."""
    return make_integration(organization=org, user=admin_user, document=secret_document)


@pytest.fixture
def other_integration(other_org, other_admin):
    return make_integration(
        organization=other_org,
        user=other_admin,
        name="theirs",
        document=api_key_document(
            model_properties=[{"name": "their-model", "alias": "Their Model", "based_on": "gpt-4.1"}]
        ),
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return _client(admin_user)


@pytest.fixture
def member_client(member_user):
    return _client(member_user)
