from django.db import migrations


def forwards(apps, schema_editor):
    from audit.guard import create_triggers

    create_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
