# The stream models moved here from bidding_ui (issue 17, layering). The tables already
# exist (created by bidding_ui.0001_initial): this migration only takes over the model state,
# then 0002 renames the tables to this app's names. No row is copied or lost.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("bidding_ui", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Stream",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("key", models.CharField(max_length=120, unique=True)),
                        ("last_id", models.BigIntegerField(default=0)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "bidding_ui_stream"},
                ),
                migrations.CreateModel(
                    name="StreamEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("event_id", models.BigIntegerField()),
                        ("kind", models.CharField(max_length=60)),
                        ("payload", models.JSONField(default=dict)),
                        ("audience", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("stream", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                     related_name="events", to="realtime.stream")),
                    ],
                    options={
                        "db_table": "bidding_ui_streamevent",
                        "ordering": ["stream", "event_id"],
                        "constraints": [models.UniqueConstraint(fields=("stream", "event_id"),
                                                                name="unique_stream_event_id")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
