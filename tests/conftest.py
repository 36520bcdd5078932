import os

import pytest

from organizations.models import Role
from tests.factories import OrganizationFactory, UserFactory

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Shared fixtures live in tests/fixtures/ (one module per concern) and are registered here.
pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.worker",
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories hash a password for every user; the production hasher (PBKDF2) takes most of a second each time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_api_throttling(settings):
    # The fuzz and schema tests send thousands of requests with one key; tests/hardening/test_throttling.py turns
    # throttling back on. (Counts live in the shared Redis cache, which sessions running at once share.)
    settings.API_THROTTLE_RATE = None


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex")


@pytest.fixture
def admin_user(org):
    return UserFactory(username="ada", organization=org, role=Role.ADMIN)


@pytest.fixture
def member_user(org):
    return UserFactory(username="max", organization=org, role=Role.MEMBER)


@pytest.fixture
def other_admin(other_org):
    return UserFactory(username="olga", organization=other_org, role=Role.ADMIN)
