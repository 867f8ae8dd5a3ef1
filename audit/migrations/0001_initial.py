from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("ts", models.DateTimeField()),
                ("actor", models.CharField(max_length=64)),
                ("action", models.CharField(db_index=True, max_length=100)),
                ("object", models.CharField(db_index=True, max_length=200)),
                ("data", models.JSONField(default=dict)),
                ("prev", models.CharField(max_length=64, unique=True)),
                ("hash", models.CharField(max_length=64, unique=True)),
            ],
            options={"ordering": ["seq"]},
        ),
    ]
