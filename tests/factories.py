"""factory-boy factories for the CRM, users, the sync log and the connector's settings; every test
builds its data with these."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from integration.crm.models import Relation, RelationType
from integration.digitalefactuur.connection import run_connection_test
from integration.digitalefactuur.models import DigitaleFactuurSettings


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


class TestedConnectorFactory(factory.django.DjangoModelFactory):
    """The DigitaleFactuur connector active and tested with the sandbox's credentials, so its
    options are unlocked: `TestedConnectorFactory(sandbox=sandbox, debtors="person",
    creditors=False, push_enabled=True)`.

    `debtors` / `creditors`: False (off), True or "organisation" (on, as organisations) or
    "person". Without a sandbox pass `account_id` and `access_code`. The test is recorded as a
    success; `connection_test="run"` runs the real "Koppeling testen" against the server instead
    (and fails the test when it does not succeed). Any other model field may be passed too. The
    row is a singleton: the factory fills in `DigitaleFactuurSettings.load()`, never a second row.
    Pointing the client at the sandbox (`DIGITALEFACTUUR_BASE_URL`) is the caller's: a setting.
    """

    # Its name starts with "Test": without this pytest would try to collect it where imported.
    __test__ = False

    class Meta:
        model = DigitaleFactuurSettings

    class Params:
        sandbox = None
        debtors = "organisation"
        creditors = "organisation"

    active = True
    account_id = factory.LazyAttribute(lambda o: o.sandbox.account_id)
    access_code = factory.LazyAttribute(lambda o: o.sandbox.access_code)
    debtors_enabled = factory.LazyAttribute(lambda o: bool(o.debtors))
    debtors_kind = factory.LazyAttribute(
        lambda o: o.debtors if isinstance(o.debtors, str) else Relation.Kind.ORGANISATION)
    creditors_enabled = factory.LazyAttribute(lambda o: bool(o.creditors))
    creditors_kind = factory.LazyAttribute(
        lambda o: o.creditors if isinstance(o.creditors, str) else Relation.Kind.ORGANISATION)
    push_enabled = False
    connection_test = "recorded"

    @classmethod
    def _create(cls, model_class, *args, access_code, connection_test, **fields):
        df = model_class.load()
        for name, value in fields.items():
            setattr(df, name, value)
        df.set_access_code(access_code)
        if connection_test == "run":
            outcome = run_connection_test(df)
            assert outcome.ok, outcome.message
        else:
            # A successful "Koppeling testen" for these credentials: the options unlock.
            df.record_test(True, "Verbinding geslaagd", timezone.now())
        df.save()
        return df
