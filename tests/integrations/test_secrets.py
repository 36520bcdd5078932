import json

import pytest
from django.core.management import call_command
from django.db import connection

from integrations.models import Integration
from integrations.services import integration_document, integration_upsert
from tests.factories import api_key_document

API_KEY = "sk-PLANTED-api-key-7f3a9c"
HEADER_VALUE = "PLANTED-header-value-51bd"
CLIENT_SECRET = "PLANTED-client-secret-c0ffee"


def _store_secrets(org):
    integration_upsert(
        organization=org,
        user=None,
        name="keyed",
        document=api_key_document(api_key_value=API_KEY, headers={"X-Tenant": HEADER_VALUE}),
    )
    oauth = {
        "authentication_type": "oauth2",
        "oauth2_token_url": "https://auth.example/token",
        "token": json.dumps({"client_id": "cid", "client_secret": CLIENT_SECRET}),
        "model_properties": [{"name": "m", "alias": "OAuth model"}],
        "endpoint": "https://provider.example/v1",
    }
    integration_upsert(organization=org, user=None, name="oauth", document=oauth)


def _raw_table_bytes() -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_integration")
        rows = cursor.fetchall()
    return b"".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode() for row in rows for value in row
    )


def test_a_raw_sql_read_shows_ciphertext_only(org):
    _store_secrets(org)
    raw = _raw_table_bytes()
    for secret in (API_KEY, HEADER_VALUE, CLIENT_SECRET):
        assert secret.encode() not in raw
    # ... while the model reads them back in clear.
    assert Integration.objects.get(name="keyed").api_key_value == API_KEY


def test_reads_replace_every_secret_with_the_placeholder(org):
    _store_secrets(org)
    for integration in Integration.objects.all():
        text = repr(integration_document(integration=integration))
        assert API_KEY not in text and HEADER_VALUE not in text and CLIENT_SECRET not in text
    keyed = integration_document(integration=Integration.objects.get(name="keyed"))
    assert keyed["api_key_value"] == "********"
    assert keyed["headers"] == {"X-Tenant": "********"}


def test_sending_the_placeholder_back_keeps_the_stored_secrets(org):
    _store_secrets(org)
    keyed = Integration.objects.get(name="keyed")
    document = integration_document(integration=keyed)
    document["headers"]["X-Extra"] = "new-value"
    integration_upsert(organization=org, user=None, name="keyed", document=document)
    keyed.refresh_from_db()
    assert keyed.api_key_value == API_KEY
    assert keyed.headers == {"X-Tenant": HEADER_VALUE, "X-Extra": "new-value"}


def test_the_placeholder_without_a_stored_secret_is_an_error(org):
    from core.problems import Invalid

    with pytest.raises(Invalid) as caught:
        integration_upsert(organization=org, user=None, name="new", document=api_key_document(api_key_value="********"))
    assert caught.value.errors[0].path == "api_key_value"


NEW_KEY = "a-brand-new-encryption-key-of-sufficient-length-0123"


def test_key_rotation_re_encrypts_every_secret_and_loses_nothing(org, settings):
    _store_secrets(org)
    before = {i.name: integration_document(integration=i, reveal_secrets=True) for i in Integration.objects.all()}
    old_raw = _raw_table_bytes()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY, *settings.INTEGRATIONS_ENCRYPTION_KEYS]

    call_command("rotate_encryption_key")

    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY]
    after = {i.name: integration_document(integration=i, reveal_secrets=True) for i in Integration.objects.all()}
    assert after == before
    assert _raw_table_bytes() != old_raw


def test_the_old_key_cannot_read_secrets_after_rotation(org, settings):
    _store_secrets(org)
    old_keys = settings.INTEGRATIONS_ENCRYPTION_KEYS
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY, *old_keys]
    call_command("rotate_encryption_key")
    from integrations.encryption import InvalidToken

    settings.INTEGRATIONS_ENCRYPTION_KEYS = old_keys
    with pytest.raises(InvalidToken):
        Integration.objects.get(name="keyed").api_key_value  # noqa: B018


def test_rotation_with_a_wrong_current_key_changes_nothing(org, settings):
    _store_secrets(org)
    old_raw = _raw_table_bytes()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY, "not-the-key-the-secrets-were-written-with-000000"]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot be decrypted with any key"):
        call_command("rotate_encryption_key")
    assert _raw_table_bytes() == old_raw


def test_the_secret_key_can_change_without_losing_secrets(org, settings):
    _store_secrets(org)
    settings.SECRET_KEY = "a-completely-different-django-secret-key-0987654321"
    assert Integration.objects.get(name="keyed").api_key_value == API_KEY
