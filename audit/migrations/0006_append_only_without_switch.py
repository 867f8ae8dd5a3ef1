from django.db import migrations, models


def forwards(apps, schema_editor):
    # The append-only guard without the `ptrade.audit_maintenance` GUC / SQLite function
    # switch, now also on the Merkle node store and the refused-checkpoint records
    # (audit/guard.py, docs/audit.md).
    from audit.guard import AUDIT_TABLES, create_triggers

    create_triggers(schema_editor.connection, tables=AUDIT_TABLES)


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
