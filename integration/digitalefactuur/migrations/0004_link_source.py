from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("digitalefactuur", "0003_link_raw_hashes"),
    ]

    operations = [
        migrations.AddField(
            model_name="dflink",
            name="source",
            field=models.JSONField(blank=True, default=list,
                                   verbose_name="klant zoals laatst gelezen"),
        ),
        migrations.AddField(
            model_name="dflink",
            name="source_hash",
            field=models.CharField(blank=True, max_length=32,
                                   verbose_name="ruwe vingerafdruk gelezen klant"),
        ),
    ]
