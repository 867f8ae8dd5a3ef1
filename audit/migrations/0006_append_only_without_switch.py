from django.db import migrations


def forwards(apps, schema_editor):
    # The append-only guard without the `ptrade.audit_maintenance` GUC / SQLite function
    # switch, and now on the Merkle node store too (audit/guard.py, docs/audit.md).
    from audit.guard import AUDIT_TABLES, create_triggers

    create_triggers(schema_editor.connection, tables=AUDIT_TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_collusion_signals")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
