from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("digitalefactuur", "0004_link_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="digitalefactuursettings",
            name="api_reading",
            field=models.JSONField(blank=True, default=dict, editable=False,
                                   verbose_name="werkwijze van DigitaleFactuur"),
        ),
    ]
