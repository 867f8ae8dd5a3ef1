# Rename the moved tables from audit_collusion* to supervision_collusion* (ALTER TABLE ...
# RENAME keeps rows, ids, indexes and constraints; `manage.py db_roles grant` grants by table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("supervision", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="collusionrun", table=None),
        migrations.AlterModelTable(name="collusionsignal", table=None),
    ]
