"""Callers of the API: one APIClient per role, authenticated by API key unless said otherwise."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from organizations.models import Role
from organizations.services import api_key_issue
from tests.factories import UserFactory, make_integration


def key_client(raw_key: str | None = None, *, bearer: bool = False) -> APIClient:
    client = APIClient()
    if raw_key is not None:
        if bearer:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        else:
            client.credentials(HTTP_GALILEO_API_KEY=raw_key)
    return client


def client_for(user, *, bearer: bool = False) -> APIClient:
    return key_client(api_key_issue(user=user).raw_key, bearer=bearer)


@pytest.fixture
def creator(org):
    """A member who created the integration `custom`."""
    return UserFactory(username="cora", organization=org, role=Role.MEMBER)


@pytest.fixture
def integration(org, creator):
    return make_integration(organization=org, user=creator, name="custom")


@pytest.fixture
def memberless_user(db):
    return get_user_model().objects.create_user(username="nomad", password="correct-horse-battery")


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def member_client(member_user):
    return client_for(member_user)


@pytest.fixture
def creator_client(creator):
    return client_for(creator)


@pytest.fixture
def other_client(other_admin):
    return client_for(other_admin)


@pytest.fixture
def revoked_client(admin_user):
    issued = api_key_issue(user=admin_user)
    issued.api_key.revoked_at = timezone.now()
    issued.api_key.save()
    return key_client(issued.raw_key)


@pytest.fixture
def callers(admin_user, member_user, creator, other_admin, memberless_user, revoked_client):
    """Every kind of caller, by name."""
    return {
        "admin": client_for(admin_user),
        "member": client_for(member_user),
        "creator": client_for(creator, bearer=True),
        "other_org_admin": client_for(other_admin),
        "memberless": client_for(memberless_user),
        "no_key": key_client(None),
        "bad_key": key_client("gal_not-a-real-key"),
        "revoked_key": revoked_client,
    }
