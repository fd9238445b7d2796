"""The pick list "relatietype" starts with PerfectView's five values; administrators edit it."""

from django.db import migrations


def create_types(apps, schema_editor):
    from integration.crm.apps import ensure_relation_types

    ensure_relation_types(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
