"""Creates the rights catalogue in the manual's order, and PerfectView's two starting roles.

Administrators may manage rights from the start, or nobody but a superuser could open the
Rechten page for changes; every other right starts white (never set) for both roles.
"""

from django.db import migrations

from integration.rights.catalogue import APP_LABEL, OWNER_MODEL, ensure_catalogue


def create_catalogue(apps, schema_editor):
    ensure_catalogue(apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    administrators, _created = group_model.objects.get_or_create(name="Administrators")
    group_model.objects.get_or_create(name="Users")
    administrators.permissions.add(permission_model.objects.get(
        content_type__app_label=APP_LABEL, codename="manage_rights"))


def remove_catalogue(apps, schema_editor):
    # The roles stay: they may hold other rights and users by now.
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label=APP_LABEL, content_type__model=OWNER_MODEL).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_catalogue, remove_catalogue)]
