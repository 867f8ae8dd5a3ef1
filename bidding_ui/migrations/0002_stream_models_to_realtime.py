# Stream and StreamEvent moved to the realtime app (realtime.0001_initial takes over their
# state and tables); bidding_ui forgets them without touching the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("bidding_ui", "0001_initial"),
        ("realtime", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="StreamEvent"),
                migrations.DeleteModel(name="Stream"),
            ],
            database_operations=[],
        ),
    ]
