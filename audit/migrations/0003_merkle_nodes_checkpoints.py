from django.db import migrations, models

# Checkpoints are kept forever: the same append-only guard as the events (audit.guard),
# reusing its PostgreSQL function (0006 re-installs all audit guards without any switch).
POSTGRES_SQL = """
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""
SQLITE_SQL = [
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused'); END""",
]


def create_checkpoint_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_SQL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_SQL:
                cursor.execute(statement)
        else:
            raise RuntimeError(f"no audit guard for database vendor {connection.vendor}")


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
