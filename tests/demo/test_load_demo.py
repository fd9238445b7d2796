"""The demo loader: roles, a demo administrator who is not a superuser, forty relations."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from integration.crm.models import Relation

pytestmark = pytest.mark.django_db


def test_loading_the_demo_twice_duplicates_nothing():
    # given
    call_command("load_demo", verbosity=0)
    counts = (Relation.objects.count(), User.objects.count(), Group.objects.count())
    # when
    call_command("load_demo", verbosity=0)
    # then
    assert (Relation.objects.count(), User.objects.count(), Group.objects.count()) == counts


def test_the_demo_holds_organisations_persons_debtors_and_creditors_with_dutch_names():
    call_command("load_demo", verbosity=0)
    relations = Relation.objects.all()
    assert 35 <= relations.count() <= 45
    assert relations.filter(kind="person").exists()
    assert relations.exclude(debtor_number="").filter(debtor_number__startswith="1").exists()
    assert relations.exclude(creditor_number="").filter(creditor_number__startswith="2").exists()
    assert relations.exclude(debtor_number="").exclude(creditor_number="").exists()
    names = " ".join(str(r) for r in relations)
    assert "&" in names and "é" in names


def test_every_demo_relation_passes_the_forms_validation():
    """The demo shows valid data; odd values belong to the sandbox's klanten."""
    call_command("load_demo", verbosity=0)
    for relation in Relation.objects.all():
        relation.full_clean()


def test_the_demo_administrator_is_an_administrator_but_not_a_superuser(settings):
    call_command("load_demo", verbosity=0)
    user = User.objects.get(username=settings.DEMO_USERNAME)
    assert user.check_password(settings.DEMO_PASSWORD)
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name="Administrators").exists()
    assert Group.objects.filter(name="Users").exists()
