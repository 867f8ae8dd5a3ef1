from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_collusion_signals'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkerHeartbeat',
            fields=[
                ('key', models.CharField(max_length=200, primary_key=True, serialize=False)),
                ('kind', models.CharField(max_length=10)),
                ('seen_at', models.DateTimeField()),
                ('pid', models.IntegerField(null=True)),
            ],
        ),
    ]
