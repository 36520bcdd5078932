import os

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from integrations.encryption import encrypted_fields, reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret at rest under a new key. The current key is INTEGRATIONS_ENCRYPTION_KEY; "
        "the new key is read from the environment variable INTEGRATIONS_NEW_ENCRYPTION_KEY (never from the "
        "command line, which would leak it into shell history and process lists). All rows are rewritten in "
        "one transaction: if any secret cannot be decrypted with the current key, nothing changes."
    )

    def handle(self, *args, **options):
        new_key = os.environ.get("INTEGRATIONS_NEW_ENCRYPTION_KEY", "")
        old_key = settings.INTEGRATIONS_ENCRYPTION_KEY
        if len(new_key) < 32:
            raise CommandError("Set INTEGRATIONS_NEW_ENCRYPTION_KEY to the new key (at least 32 characters).")
        if new_key == old_key:
            raise CommandError("The new key is the same as the current key.")
        count = self.rotate(old_key=old_key, new_key=new_key)
        self.stdout.write(
            f"Re-encrypted {count} secret value(s). Now set INTEGRATIONS_ENCRYPTION_KEY to the new key "
            "and restart the web and worker processes."
        )

    @staticmethod
    def rotate(*, old_key: str, new_key: str) -> int:
        count = 0
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            for model in apps.get_models():
                fields = encrypted_fields(model)
                if not fields:
                    continue
                table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
                columns = [quote(field.column) for field in fields]
                cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table}")  # noqa: S608 (names from models)
                for row in cursor.fetchall():
                    values = [
                        None if value is None else reencrypt(value, old_key=old_key, new_key=new_key)
                        for value in row[1:]
                    ]
                    assignments = ", ".join(f"{column} = %s" for column in columns)
                    cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [*values, row[0]])  # noqa: S608
                    count += sum(value is not None for value in values)
        return count
