from django.db import migrations, models

# Checkpoints are kept forever: the same append-only guard as the events (audit.guard),
# reusing its PostgreSQL function (0006 re-installs all audit guards without any switch).


def create_checkpoint_triggers(apps, schema_editor):
    from audit.guard import create_triggers

    create_triggers(schema_editor.connection, tables=("audit_checkpoint",))


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tree_size", models.BigIntegerField(unique=True)),
                ("root_hash", models.CharField(max_length=64)),
                ("note", models.TextField()),
                ("created_at", models.DateTimeField()),
            ],
            options={"ordering": ["-tree_size"]},
        ),
        migrations.CreateModel(
            name="MerkleNode",
            fields=[
                ("pk", models.CompositePrimaryKey("level", "index", blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
        ),
        migrations.RunPython(create_checkpoint_triggers, migrations.RunPython.noop),
    ]
