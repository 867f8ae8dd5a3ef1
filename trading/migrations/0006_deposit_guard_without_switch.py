from django.db import migrations


def forwards(apps, schema_editor):
    # The deposit ledger guard without the `ptrade.audit_maintenance` switch (trading/deposits/guard.py).
    from trading.deposits.guard import create_triggers

    create_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("trading", "0005_bid_upload_facts")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
