# Rename the moved tables from bidding_ui_* to realtime_* (ALTER TABLE ... RENAME keeps the
# rows, indexes, constraints and grants; `manage.py db_roles grant` grants by table, so the
# runtime role's privileges carry over).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("realtime", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="stream", table=None),
        migrations.AlterModelTable(name="streamevent", table=None),
    ]
