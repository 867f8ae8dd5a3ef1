from django.db import migrations, models


def forwards(apps, schema_editor):
    # The append-only guard without the `ptrade.audit_maintenance` GUC / SQLite function
    # switch, now also on the Merkle node store and the refused-checkpoint records
    # (audit/guard.py, docs/audit.md).
    from audit.guard import create_triggers

    # The tables that exist at this migration (later ones guard their own tables, e.g. 0008).
    create_triggers(schema_editor.connection, tables=("audit_auditevent", "audit_checkpoint", "audit_merklenode",
                                                      "audit_checkpointrefusal"))


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_collusion_signals")]
    operations = [
        migrations.CreateModel(
            name="CheckpointRefusal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField()),
                ("log_size", models.BigIntegerField()),
                ("problem", models.TextField()),
            ],
            options={"ordering": ["-at", "-pk"]},
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
