"""factory-boy factories for the CRM and users; every test builds its data with these."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from integration.crm.models import Relation, RelationType


class RelationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelationType
        django_get_or_create = ["name"]

    name = "Klant"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relation

    kind = Relation.Kind.ORGANISATION
    organisation_name = factory.Sequence(lambda n: f"Handelsonderneming {n} & Co")
    relation_type = factory.SubFactory(RelationTypeFactory)
    invoice_street = factory.Sequence(lambda n: f"Kerkstraat {n + 1}")
    invoice_postcode = "2311 AA"
    invoice_city = "Leiden"
    invoice_country = "NL"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relation

    kind = Relation.Kind.PERSON
    first_name = "Anneke"
    surname = factory.Sequence(lambda n: f"Jansen-{n}")
    relation_type = factory.SubFactory(RelationTypeFactory)
    private_street = factory.Sequence(lambda n: f"Dorpsstraat {n + 1}")
    private_postcode = "3511 AX"
    private_city = "Utrecht"
    private_country = "NL"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ["name"]

    name = "Administrators"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        # The password is hashed before the insert and groups are an m2m add: nothing is left
        # to save after the post-generation hooks.
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"gebruiker{n}")
    is_staff = True
    password = factory.django.Password("geheim-wachtwoord-1")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*extracted)


class RoleFactory(factory.django.DjangoModelFactory):
    """A role (auth Group) with a fresh name; `RoleFactory(rights=[DIGITALE_FACTUUR])` grants
    rights given as "app_label.codename" strings (integration.rights.catalogue)."""

    class Meta:
        model = Group
        django_get_or_create = ["name"]
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rol {n}")

    @factory.post_generation
    def rights(self, create, extracted, **kwargs):
        if create and extracted:
            # Imported here: the factories above must not depend on the rights app.
            from integration.rights.changes import permission_for

            self.permissions.add(*[permission_for(right) for right in extracted])


class SyncRunFactory(factory.django.DjangoModelFactory):
    """A finished DigitaleFactuur run; pass `status`, `counts`, `trigger`, times as needed."""

    class Meta:
        model = "connectors.SyncRun"

    connector = "digitalefactuur"
    trigger = "gepland"
    status = "geslaagd"
    started_at = factory.LazyFunction(timezone.now)
    queued_at = factory.LazyAttribute(lambda run: run.started_at or timezone.now())
    finished_at = factory.LazyAttribute(
        lambda run: run.started_at and run.started_at + timedelta(seconds=42))
    counts = factory.LazyFunction(lambda: {"import": {"ongewijzigd": 10}})


class SyncEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "connectors.SyncEvent"

    run = factory.SubFactory(SyncRunFactory)
    direction = "export"
    action = "bijgewerkt"
    kind = "debtor"
    number = factory.Sequence(lambda n: f"1{n:04d}")
    diff = factory.LazyFunction(lambda: {"naam": ["Oud", "Nieuw"]})
