"""Datasets and metrics get a public UUID (issue 14 item 9); the integer primary keys stay for foreign keys.

Three steps, as a unique column cannot be added to filled tables with one default: nullable columns, a UUID per
existing row, then unique and required.
"""

import uuid

from django.db import migrations, models

MODELS = ["Dataset", "Metric"]


def fill(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("evaluations", name)
        for pk in model.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0003_evaluation_prompt_version")]

    operations = [
        *(
            migrations.AddField(model_name=name.lower(), name="uuid", field=models.UUIDField(null=True, editable=False))
            for name in MODELS
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        *(
            migrations.AlterField(
                model_name=name.lower(),
                name="uuid",
                field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
            )
            for name in MODELS
        ),
    ]
