import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from organizations.models import ApiKey, Membership, Organization
from organizations.services import api_key_authenticate


def _run(*args) -> list[str]:
    out = StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_it_creates_the_user_and_the_organisation(db):
    lines = _run("alice", "--organization", "Acme", "--role", "admin", "--password", "s3cret-pass-word")
    assert lines == ["Created admin alice in organisation Acme."]
    membership = Membership.objects.get(user__username="alice")
    assert membership.organization.name == "Acme" and membership.role == "admin"
    user = get_user_model().objects.get(username="alice")
    assert user.check_password("s3cret-pass-word")
    assert not user.is_staff  # the Django admin is for operators, not organisation admins


def test_it_joins_an_existing_organisation(db):
    _run("alice", "--organization", "Acme", "--role", "admin")
    _run("bob", "--organization", "Acme", "--role", "member")
    assert Organization.objects.count() == 1
    assert Membership.objects.get(user__username="bob").role == "member"


def test_it_prints_a_new_api_key_on_the_last_line_and_stores_only_its_hash(db):
    lines = _run("alice", "--organization", "Acme", "--role", "member", "--api-key")
    raw_key = lines[-1]
    assert raw_key.startswith("gal_") and len(raw_key) > 40
    stored = ApiKey.objects.get()
    assert stored.digest == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in (stored.prefix + stored.digest)
    assert api_key_authenticate(raw_key=raw_key).username == "alice"
    assert api_key_authenticate(raw_key=raw_key + "x") is None


def test_it_refuses_a_duplicate_username_and_an_unknown_role(db):
    _run("alice", "--organization", "Acme", "--role", "admin")
    with pytest.raises(CommandError, match="already exists"):
        _run("alice", "--organization", "Acme", "--role", "admin")
    with pytest.raises(CommandError):
        _run("carol", "--organization", "Acme", "--role", "owner")
    assert get_user_model().objects.count() == 1
