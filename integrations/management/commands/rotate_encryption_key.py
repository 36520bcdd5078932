import os

from django.core.management.base import BaseCommand, CommandError

from integrations.encryption import InvalidToken
from integrations.services import secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret at rest under the first key of INTEGRATIONS_ENCRYPTION_KEYS (any listed key "
        "decrypts). Rotation without downtime: put the new key first in INTEGRATIONS_ENCRYPTION_KEYS and restart web "
        "and workers, run this command (they keep running), then remove the old key and restart again. All rows are "
        "rewritten in one transaction, each locked while it is rewritten: if any secret cannot be decrypted with a "
        "listed key, nothing changes."
    )

    def handle(self, *args, **options):
        if os.environ.get("INTEGRATIONS_NEW_ENCRYPTION_KEY"):
            raise CommandError(
                "INTEGRATIONS_NEW_ENCRYPTION_KEY is no longer read: put the new key first in "
                "INTEGRATIONS_ENCRYPTION_KEYS (new,old), restart web and workers, then run this command again."
            )
        try:
            count = secrets_reencrypt()
        except InvalidToken:
            raise CommandError(
                "A stored secret cannot be decrypted with any key of INTEGRATIONS_ENCRYPTION_KEYS; nothing changed. "
                "Add the key it was written with to the list."
            ) from None
        self.stdout.write(
            f"Re-encrypted {count} secret value(s) under the first key. Older keys can now be removed from "
            "INTEGRATIONS_ENCRYPTION_KEYS (then restart web and workers)."
        )
