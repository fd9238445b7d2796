"""The demo's rights: Administrators manage rights, Digitale Factuur starts white, twice is once."""

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import override_settings

from integration.rights.catalogue import DIGITALE_FACTUUR, MANAGE_RIGHTS
from integration.rights.changes import set_right
from integration.rights.models import Right, RightChange

pytestmark = pytest.mark.django_db


@override_settings(DEMO_USERNAME="beheerder")
def test_the_demo_administrator_can_manage_rights_but_must_switch_digitale_factuur_on():
    """The demo leaves the manual's step A to the administrator."""
    # given / when
    call_command("load_demo", stdout=io.StringIO())
    # then
    administrator = User.objects.get(username="beheerder")
    assert administrator.is_staff and not administrator.is_superuser
    assert administrator.has_perm(MANAGE_RIGHTS)
    assert not administrator.has_perm(DIGITALE_FACTUUR)
    assert not RightChange.objects.filter(right__permission__codename="digitalefactuur").exists()


@override_settings(DEMO_USERNAME="beheerder")
def test_loading_the_demo_twice_changes_nothing_and_keeps_what_the_administrator_set():
    """A second load neither duplicates roles nor undoes a block the administrator turned green."""
    # given
    call_command("load_demo", stdout=io.StringIO())
    administrators = Group.objects.get(name="Administrators")
    administrator = User.objects.get(username="beheerder")
    set_right(administrators, Right.objects.get(permission__codename="digitalefactuur"), True,
              by=administrator)
    before = (Group.objects.count(), User.objects.count(), RightChange.objects.count(),
              sorted(administrators.permissions.values_list("pk", flat=True)))
    # when
    call_command("load_demo", stdout=io.StringIO())
    # then
    after = (Group.objects.count(), User.objects.count(), RightChange.objects.count(),
             sorted(administrators.permissions.values_list("pk", flat=True)))
    assert after == before
    assert User.objects.get(username="beheerder").has_perm(DIGITALE_FACTUUR)

