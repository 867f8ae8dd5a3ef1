# CollusionRun and CollusionSignal moved to the supervision app (supervision.0001_initial takes
# over their state and tables); the audit app forgets them without touching the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0008_witness_cosignatures"),
        ("supervision", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CollusionSignal"),
                migrations.DeleteModel(name="CollusionRun"),
            ],
            database_operations=[],
        ),
    ]
