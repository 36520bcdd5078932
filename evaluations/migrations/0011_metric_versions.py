import uuid

from django.db import migrations, models


def lineage_from_uuid(apps, schema_editor):
    # Every existing metric is the first version of its own lineage, named by its own public id.
    Metric = apps.get_model("evaluations", "Metric")
    Metric.objects.update(lineage=models.F("uuid"))


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0010_rerun_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="metric",
            name="lineage",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(lineage_from_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="metric",
            name="lineage",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
        migrations.AddField(
            model_name="metric",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.AddField(
            model_name="metric",
            name="replaced_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RemoveConstraint(
            model_name="metric",
            name="metric_name_unique_in_org",
        ),
        migrations.AddConstraint(
            model_name="metric",
            constraint=models.UniqueConstraint(
                condition=models.Q(("replaced_at__isnull", True)),
                fields=("organization", "name"),
                name="metric_name_unique_in_org",
            ),
        ),
        migrations.AddConstraint(
            model_name="metric",
            constraint=models.UniqueConstraint(fields=("lineage", "version"), name="metric_version_unique"),
        ),
    ]
