import uuid

from django.db import migrations, models


def lineage_from_uuid(apps, schema_editor):
    # Every existing dataset is the first version of its own lineage, named by its own public id.
    Dataset = apps.get_model("evaluations", "Dataset")
    Dataset.objects.update(lineage=models.F("uuid"))


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0006_evaluation_idempotency_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="lineage",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(lineage_from_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="dataset",
            name="lineage",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
        migrations.AddField(
            model_name="dataset",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="datasetrow",
            name="source_run_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="dataset",
            constraint=models.UniqueConstraint(fields=("lineage", "version"), name="dataset_version_unique"),
        ),
    ]
