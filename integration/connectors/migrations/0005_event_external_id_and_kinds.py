"""The shared log names no connector: an event's `df_id` becomes `external_id` (its values kept),
`kind` takes the connector's own kinds (declared when it registers) instead of choices, and the
directions' labels are the log's own words (a connector names the other side when it registers).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("connectors", "0004_run_detail_and_event_name"),
    ]

    operations = [
        migrations.RenameField(model_name="syncevent", old_name="df_id", new_name="external_id"),
        migrations.AlterField(
            model_name="syncevent",
            name="external_id",
            field=models.CharField(blank=True, max_length=40, verbose_name="externe id"),
        ),
        migrations.AlterField(
            model_name="syncevent",
            name="direction",
            field=models.CharField(choices=[("import", "naar PerfectView"),
                                            ("export", "vanuit PerfectView")],
                                   max_length=6, verbose_name="richting"),
        ),
        migrations.AlterField(
            model_name="syncevent",
            name="kind",
            field=models.CharField(blank=True, max_length=40, verbose_name="soort"),
        ),
    ]
