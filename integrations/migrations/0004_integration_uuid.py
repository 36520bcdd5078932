"""Integrations get a public UUID (issue 14 item 9); the integer primary key stays for foreign keys and caches.

Three steps, as a unique column cannot be added to filled tables with one default: a nullable column, a UUID per
existing row, then unique and required.
"""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for pk in Integration.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
        Integration.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_secrets_as_fernet_tokens")]

    operations = [
        migrations.AddField(model_name="integration", name="uuid", field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="integration",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
    ]
