"""Load the specialty code list (experts/fixtures/specialties.json)."""

from django.db import migrations


def load(apps, schema_editor):
    from experts.specialties import specialties_load

    specialties_load(apps.get_model("experts", "Specialty"))


class Migration(migrations.Migration):
    dependencies = [("experts", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
