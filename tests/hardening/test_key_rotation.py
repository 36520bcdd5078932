"""Keys that rotate without downtime: INTEGRATIONS_ENCRYPTION_KEYS (first encrypts, any decrypts; the single-key
variable still accepted), weak keys refused in production settings, re-encryption while a real worker keeps running
runs, and the storage-format migration (django-cryptography pickles -> Fernet tokens) proven to lose nothing."""

import json
import secrets
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from integrations.encryption import InvalidToken, keyring, legacy_encrypt
from integrations.models import Integration
from tests.fixtures.worker import wait_for_run
from tests.hardening.settings_process import settings_in_process
from tests.runners.conftest import provider_document

ROOT = Path(__file__).resolve().parents[2]
OLD = "old-key-" + "k7Qz9xWp2mVb4nRt8yLc3hJf6gDs1aEo"
NEW = "new-key-" + "P5uY2iT9rE4wQ7oI1pA6sD3fG8hJ0kLz"
SECRET_KEY = secrets.token_urlsafe(50)


def settings_of(expression: str, **env_overrides) -> subprocess.CompletedProcess:
    production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": SECRET_KEY, "DJANGO_ALLOWED_HOSTS": "llm.example.com"}
    return settings_in_process(expression, drop=("INTEGRATIONS_", "DJANGO_"), **{**production, **env_overrides})


def test_the_key_list_is_read_first_key_first_and_the_single_key_still_works():
    listed = settings_of("settings.INTEGRATIONS_ENCRYPTION_KEYS", INTEGRATIONS_ENCRYPTION_KEYS=f"{NEW}, {OLD}")
    single = settings_of("settings.INTEGRATIONS_ENCRYPTION_KEYS", INTEGRATIONS_ENCRYPTION_KEY=OLD)
    both = settings_of(
        "settings.INTEGRATIONS_ENCRYPTION_KEYS",
        INTEGRATIONS_ENCRYPTION_KEYS=f"{NEW},{OLD}",
        INTEGRATIONS_ENCRYPTION_KEY=OLD,
    )

    assert listed.stdout.strip() == str([NEW, OLD]), listed.stderr
    assert single.stdout.strip() == str([OLD]), single.stderr
    assert both.stdout.strip() == str([NEW, OLD]), both.stderr


def test_a_single_key_outside_the_list_stops_the_start():
    result = settings_of("1", INTEGRATIONS_ENCRYPTION_KEYS=NEW, INTEGRATIONS_ENCRYPTION_KEY=OLD)
    assert result.returncode != 0
    assert "INTEGRATIONS_ENCRYPTION_KEY is not one of INTEGRATIONS_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("changeme", "8 characters, fewer than 32"),
        ("a" * 40, "only 1 distinct characters, fewer than 16"),
        ("abcdefabcdefabcdefabcdefabcdefabcdef", "only 6 distinct characters"),
        (SECRET_KEY, "it is DJANGO_SECRET_KEY"),
    ],
)
def test_a_weak_key_is_refused_in_production_settings(key, reason):
    result = settings_of("1", INTEGRATIONS_ENCRYPTION_KEYS=f"{NEW},{key}")
    assert result.returncode != 0
    assert f"Encryption key 2 of INTEGRATIONS_ENCRYPTION_KEYS is weak ({reason}" in result.stderr
    # In debug the same key is accepted (development convenience).
    assert settings_of("1", DJANGO_DEBUG="true", INTEGRATIONS_ENCRYPTION_KEYS=key).returncode == 0


def raw_secrets(name: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key_value, token, headers FROM integrations_integration WHERE name = %s", [name])
        return tuple(None if value is None else bytes(value) for value in cursor.fetchone())


def readable_with_only(key: str, name: str) -> str:
    token = raw_secrets(name)[0]
    return json.loads(keyring((key,)).decrypt(token))


def test_a_rotation_with_a_real_worker_running_throughout(celery_worker, openai_server, integrate, enqueue, settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [OLD]
    old_one = integrate(
        provider_document(openai_server.url, models=("old-model",), api_key_value="sk-old-ABCDEFGH"), name="old-one"
    )

    # 1. The new key is added first: the old secrets still decrypt, new writes use the new key.
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW, OLD]
    assert wait_for_run(enqueue(old_one).pk).status == "succeeded"
    new_one = integrate(
        provider_document(openai_server.url, models=("new-model",), api_key_value="sk-new-IJKLMNOP"), name="new-one"
    )
    assert readable_with_only(NEW, "new-one") == "sk-new-IJKLMNOP"
    with pytest.raises(InvalidToken):
        readable_with_only(NEW, "old-one")

    # 2. Re-encrypt while the worker is running.
    call_command("rotate_encryption_key")
    assert readable_with_only(NEW, "old-one") == "sk-old-ABCDEFGH"

    # 3. The old key is removed: everything still reads and runs.
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW]
    assert Integration.objects.get(name="old-one").api_key_value == "sk-old-ABCDEFGH"
    assert wait_for_run(enqueue(new_one).pk).status == "succeeded"
    sent = [request.headers["x-portkey-api-key"] for request in openai_server.completion_requests]
    assert sent == ["sk-old-ABCDEFGH", "sk-new-IJKLMNOP"]


# The migration that changed the storage format, run backwards and forwards on this test database.
BEFORE = [("integrations", "0002_model_based_on_not_null")]
# Forwards to every app's latest migration: going back to integrations 0002 also unapplied the migrations of other
# apps that depend on a later one (runners 0007 depends on integrations 0004), and the models must match the tables.
AFTER = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
ROWS = {
    "keyed": ("sk-ÄPI-key-ünïcode-✓", None, {"X-Tenant": "tenant-secret-1", "X-Other": ""}),
    "oauth": (None, json.dumps({"client_id": "cid-123456", "client_secret": "cs-ABCDEFGH"}), {}),
    "empty": ("", None, {}),
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def insert_legacy_rows(org, key):
    with connection.cursor() as cursor:
        for name, values in ROWS.items():
            encrypted = [None if v is None else connection.Database.Binary(legacy_encrypt(v, key=key)) for v in values]
            cursor.execute(
                "INSERT INTO integrations_integration (organization_id, name, provider, created_at, updated_at, "
                "authentication_type, api_key_header, api_key_value, oauth2_token_url, authentication_scope, token, "
                "endpoint, default_model, custom_header_mapping, headers, custom_llm_config) VALUES "
                "(%s, %s, 'custom', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'none', '', %s, '', '', %s, "
                "'https://x.example/v1', 'm', '{}', %s, NULL)",
                [org.pk, name, *encrypted],
            )


def stored_values():
    return {i.name: (i.api_key_value, i.token, i.headers) for i in Integration.objects.order_by("name")}


@pytest.fixture
def before_the_format_change(transactional_db, org, settings):
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW, OLD]
    migrate(BEFORE)
    yield
    migrate(AFTER)


def test_the_format_migration_loses_nothing_and_reverses(before_the_format_change, org, settings):
    insert_legacy_rows(org, OLD)  # written by the previous release under the then single key

    migrate(AFTER)
    assert stored_values() == {name: values for name, values in sorted(ROWS.items())}
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW]  # re-encrypted under the first key
    assert stored_values()["keyed"] == ROWS["keyed"]

    migrate(BEFORE)
    migrate(AFTER)
    assert stored_values() == {name: values for name, values in sorted(ROWS.items())}


def test_the_format_migration_without_the_right_key_changes_nothing(before_the_format_change, org, settings):
    insert_legacy_rows(org, "a-key-no-longer-configured-0123456789")
    before = {name: raw_secrets(name) for name in ROWS}

    with pytest.raises(RuntimeError, match="cannot be decrypted with any key of INTEGRATIONS_ENCRYPTION_KEYS"):
        migrate(AFTER)

    assert {name: raw_secrets(name) for name in ROWS} == before
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM integrations_integration")
