import django.db.models.deletion
from django.db import migrations, models

# Cosignatures and witness submissions are kept forever: the same append-only guard as the
# other audit tables (audit.guard, no switch; migration 0006_append_only_without_switch). The
# runtime role gets only SELECT and INSERT on them (`manage.py db_roles grant` finds the guarded
# tables by their trigger function).
TABLES = ("audit_witnesscosignature", "audit_witnesssubmission")


def create_triggers(apps, schema_editor):
    from audit.guard import create_triggers

    create_triggers(schema_editor.connection, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_merge_parallel_work")]

    operations = [
        migrations.CreateModel(
            name="WitnessSubmission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("witness", models.CharField(max_length=200)),
                ("key_id", models.CharField(max_length=8)),
                ("url", models.CharField(max_length=500)),
                ("tree_size", models.BigIntegerField()),
                ("old_size", models.BigIntegerField()),
                ("outcome", models.CharField(choices=[("cosigned", "Cosigned"), ("refused", "Refused"),
                                                      ("unreachable", "Unreachable")], max_length=12)),
                ("status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("detail", models.TextField(blank=True)),
                ("at", models.DateTimeField()),
            ],
            options={
                "ordering": ["-at", "-pk"],
                "indexes": [models.Index(fields=["witness", "key_id", "-at"], name="audit_witness_latest")],
            },
        ),
        migrations.CreateModel(
            name="WitnessCosignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("witness", models.CharField(max_length=200)),
                ("key_id", models.CharField(max_length=8)),
                ("timestamp", models.BigIntegerField()),
                ("line", models.TextField()),
                ("received_at", models.DateTimeField()),
                ("checkpoint", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                 related_name="cosignatures", to="audit.checkpoint")),
            ],
            options={
                "ordering": ["checkpoint__tree_size", "received_at", "pk"],
                "constraints": [models.UniqueConstraint(fields=("checkpoint", "witness", "key_id"),
                                                        name="audit_one_cosignature_per_witness")],
            },
        ),
        migrations.RunPython(create_triggers, migrations.RunPython.noop),
    ]
