"""The right "Gebruikers" (applicatie instellingen): who may add, change and deactivate users
and put them in roles. Granted to Administrators, as "Rechten" is, so that an installation has
someone who can manage users from the start."""

from django.db import migrations

from integration.rights.catalogue import APP_LABEL, ensure_catalogue


def add_users_right(apps, schema_editor):
    ensure_catalogue(apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    administrators, _created = group_model.objects.get_or_create(name="Administrators")
    administrators.permissions.add(permission_model.objects.get(
        content_type__app_label=APP_LABEL, codename="manage_users"))


def remove_users_right(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label=APP_LABEL, codename="manage_users").delete()


class Migration(migrations.Migration):
    dependencies = [("rights", "0002_catalogue")]
    operations = [migrations.RunPython(add_users_right, remove_users_right)]
