"""`manage.py load_demo`: the demo roles, users and relations. Running it twice changes nothing."""

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction

from integration.crm.models import Relation, RelationType
from integration.demo.relations import demo_relations
from integration.rights.catalogue import MANAGE_RIGHTS, MANAGE_USERS
from integration.rights.changes import permission_for

ADMINISTRATORS = "Administrators"
USERS = "Users"


class Command(BaseCommand):
    help = "Laadt de demo: rollen, een demo-beheerder en ongeveer veertig relaties."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        administrators = self._roles()
        created = self._relations()
        self._demo_administrator(administrators)
        self.stdout.write(
            f"Demo geladen: {Relation.objects.count()} relaties ({created} nieuw), "
            f"gebruiker {settings.DEMO_USERNAME}."
        )

    def _roles(self) -> Group:
        administrators, _ = Group.objects.get_or_create(name=ADMINISTRATORS)
        users, _ = Group.objects.get_or_create(name=USERS)
        crm = Permission.objects.filter(content_type__app_label="crm")
        administrators.permissions.add(*crm)
        # Administrators may change rights; every other right, Digitale Factuur included, is left
        # as it is (white on a fresh database), so the demo administrator walks the manual's
        # step A: Rechten -> applicatie instellingen -> Digitale Factuur -> green.
        administrators.permissions.add(permission_for(MANAGE_RIGHTS))
        # ... and users (Gebruikers), as the migration that made the right grants it.
        administrators.permissions.add(permission_for(MANAGE_USERS))
        users.permissions.add(*crm.filter(codename__startswith="view_"),
                              *crm.filter(codename__in=["add_relation", "change_relation"]))
        return administrators

    def _relations(self) -> int:
        types = {t.name: t for t in RelationType.objects.all()}
        created = 0
        for values in demo_relations():
            values = dict(values)
            values["relation_type"] = types.get(values["relation_type"])
            if values["kind"] == "organisation":
                key = {"kind": "organisation", "organisation_name": values["organisation_name"]}
            else:
                key = {"kind": "person", "first_name": values["first_name"],
                       "surname": values["surname"]}
            _, was_created = Relation.objects.get_or_create(**key, defaults=values)
            created += was_created
        return created

    def _demo_administrator(self, administrators: Group) -> None:
        user, created = User.objects.get_or_create(
            username=settings.DEMO_USERNAME,
            defaults={"first_name": "Demo", "last_name": "Beheerder", "is_staff": True},
        )
        if created:
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
        user.groups.add(administrators)
