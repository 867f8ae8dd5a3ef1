# CollusionRun and CollusionSignal moved here from the audit app (issue 17, layering). The
# tables already exist (audit.0005_collusion_signals): this migration only takes over the model
# state; 0002 renames the tables to this app's names. No row is copied or lost.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("audit", "0008_witness_cosignatures"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CollusionRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("tender_id", models.BigIntegerField(db_index=True)),
                        ("computed_at", models.DateTimeField()),
                        ("trigger", models.CharField(max_length=20)),
                        ("actor", models.CharField(max_length=64)),
                        ("sources", models.JSONField(default=dict)),
                        ("counts", models.JSONField(default=dict)),
                        ("evidence_sha256", models.CharField(max_length=64)),
                        ("audit_seq", models.BigIntegerField(blank=True, null=True)),
                    ],
                    options={"ordering": ["-computed_at", "-pk"], "db_table": "audit_collusionrun"},
                ),
                migrations.CreateModel(
                    name="CollusionSignal",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("kind", models.CharField(max_length=40)),
                        ("severity", models.CharField(max_length=10)),
                        ("lot", models.PositiveIntegerField(blank=True, null=True)),
                        ("bidders", models.JSONField(default=list)),
                        ("evidence", models.JSONField(default=dict)),
                        ("run", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="signals", to="supervision.collusionrun")),
                    ],
                    options={"ordering": ["run_id", "pk"], "db_table": "audit_collusionsignal"},
                ),
            ],
            database_operations=[],
        ),
    ]
