import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from organizations.models import ApiKey, Membership, Organization, Project, Role

API_KEY_PREFIX = "gal_"


def api_key_digest(raw_key: str) -> str:
    """The SHA-256 hex digest an API key is stored (and throttled) under."""
    # API keys are 256-bit random strings, so a fast hash is enough (no stretching needed).
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def api_key_issue(*, user) -> IssuedApiKey:
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(user=user, prefix=raw_key[:12], digest=api_key_digest(raw_key))
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_authenticate(*, raw_key: str):
    """The active user owning this key, or None."""
    if not raw_key or not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    api_key = (
        ApiKey.objects.select_related("user", "user__membership__organization")
        .filter(digest=api_key_digest(raw_key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None:
        return None
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key.user


@transaction.atomic
def user_create(*, username: str, organization_name: str, role: str, password: str | None = None, email: str = ""):
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    organization, _ = Organization.objects.get_or_create(name=organization_name)
    user_model = get_user_model()
    # Organisation admins are not Django staff: the Django admin is the operator's tool and is not org-scoped.
    user = user_model(username=username, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    Membership.objects.create(user=user, organization=organization, role=role)
    Project.objects.get_or_create(organization=organization, name="Default")
    return user


def default_project(*, organization: Organization) -> Project:
    project, _ = Project.objects.get_or_create(organization=organization, name="Default")
    return project
