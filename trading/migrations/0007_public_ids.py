"""Random public ids for registrations, bids and deposit sub-accounts (docs/tendering.md,
"Public identifiers"): added nullable, filled row by row with fresh UUID 4 values, then made
unique and required."""

import uuid

from django.db import migrations, models

MODELS = ("registration", "bid", "depositaccount")


def fill(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("trading", name)
        for pk in model.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("trading", "0006_registered_key_commit_nonce"),
    ]

    operations = [
        *[migrations.AddField(model_name=name, name="public_id",
                              field=models.UUIDField(null=True, editable=False, verbose_name="public id"))
          for name in MODELS],
        migrations.RunPython(fill, migrations.RunPython.noop),
        *[migrations.AlterField(model_name=name, name="public_id",
                                field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True,
                                                       verbose_name="public id"))
          for name in MODELS],
    ]
