import django.db.models.deletion
from django.db import migrations, models

# Cosignatures and witness submissions are kept forever: the same append-only guard as the
# checkpoints (migration 0003), reusing the PostgreSQL function of audit.guard and its SQLite
# maintenance switch (test flushes).
TABLES = ("audit_witnesscosignature", "audit_witnesssubmission")


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();""")
            elif connection.vendor == "sqlite":
                cursor.execute(f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END""")
                cursor.execute(f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                    WHEN ptrade_audit_maintenance() = 0
                    BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END""")
            else:
                raise RuntimeError(f"no audit guard for database vendor {connection.vendor}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_collusion_signals")]

    operations = [
        migrations.CreateModel(
            name="WitnessSubmission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("witness", models.CharField(max_length=200)),
                ("key_id", models.CharField(max_length=8)),
                ("url", models.CharField(max_length=500)),
                ("tree_size", models.BigIntegerField()),
                ("old_size", models.BigIntegerField()),
                ("outcome", models.CharField(choices=[("cosigned", "Cosigned"), ("refused", "Refused"),
                                                      ("unreachable", "Unreachable")], max_length=12)),
                ("status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("detail", models.TextField(blank=True)),
                ("at", models.DateTimeField()),
            ],
            options={
                "ordering": ["-at", "-pk"],
                "indexes": [models.Index(fields=["witness", "key_id", "-at"], name="audit_witness_latest")],
            },
        ),
        migrations.CreateModel(
            name="WitnessCosignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("witness", models.CharField(max_length=200)),
                ("key_id", models.CharField(max_length=8)),
                ("timestamp", models.BigIntegerField()),
                ("line", models.TextField()),
                ("received_at", models.DateTimeField()),
                ("checkpoint", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                 related_name="cosignatures", to="audit.checkpoint")),
            ],
            options={
                "ordering": ["checkpoint__tree_size", "received_at", "pk"],
                "constraints": [models.UniqueConstraint(fields=("checkpoint", "witness", "key_id"),
                                                        name="audit_one_cosignature_per_witness")],
            },
        ),
        migrations.RunPython(create_triggers, migrations.RunPython.noop),
    ]
