"""Secrets at rest move from django-cryptography-5's format (a signed, encrypted pickle under one key) to Fernet tokens
of JSON under INTEGRATIONS_ENCRYPTION_KEYS (cryptography's MultiFernet), so that keys can rotate without downtime.

Every value is decrypted with any configured key and re-encrypted under the first one, in the migration's
transaction: if one value cannot be decrypted, the migration fails and nothing changes. Reversible (back to the old
format under the first key). The columns stay binary; only their content changes.
"""

from django.conf import settings
from django.db import migrations

import integrations.encryption

COLUMNS = ["api_key_value", "token", "headers"]


def _rewrite(apps, schema_editor, convert):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote("integrations_integration")
    columns = ", ".join(quote(column) for column in COLUMNS)
    assignments = ", ".join(f"{quote(column)} = %s" for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {table}")  # noqa: S608 (fixed names)
        for pk, *values in cursor.fetchall():
            converted = [None if value is None else connection.Database.Binary(convert(bytes(value))) for value in values]
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*converted, pk])  # noqa: S608


def to_fernet_tokens(apps, schema_editor):
    import json

    from integrations.encryption import legacy_decrypt, secrets_cipher

    keys = settings.INTEGRATIONS_ENCRYPTION_KEYS

    def convert(old: bytes) -> bytes:
        try:
            value = legacy_decrypt(old, keys=keys)
        except integrations.encryption.InvalidToken:
            raise RuntimeError(
                "A stored secret cannot be decrypted with any key of INTEGRATIONS_ENCRYPTION_KEYS: set the key it "
                "was written with, then migrate again. Nothing was changed."
            ) from None
        return secrets_cipher().encrypt(json.dumps(value).encode())

    _rewrite(apps, schema_editor, convert)


def to_legacy_format(apps, schema_editor):
    import json

    from integrations.encryption import legacy_encrypt, secrets_cipher

    def convert(token: bytes) -> bytes:
        return legacy_encrypt(json.loads(secrets_cipher().decrypt(token)), key=settings.INTEGRATIONS_ENCRYPTION_KEYS[0])

    _rewrite(apps, schema_editor, convert)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_model_based_on_not_null"),
    ]

    operations = [
        migrations.RunPython(to_fernet_tokens, to_legacy_format, elidable=False),
        migrations.AlterField(
            model_name="integration",
            name="api_key_value",
            field=integrations.encryption.EncryptedField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="integration",
            name="headers",
            field=integrations.encryption.EncryptedField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="integration",
            name="token",
            field=integrations.encryption.EncryptedField(blank=True, null=True),
        ),
    ]
