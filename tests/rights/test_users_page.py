"""Gebruikers: the user pages are gated by the right "Gebruikers" (applicatie instellingen),
which Administrators hold; Users get the page that explains the missing right."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from integration.rights.catalogue import MANAGE_USERS
from tests.factories import UserFactory


@pytest.fixture
def demo_roles(db):
    call_command("load_demo", verbosity=0)
    return Group.objects.get(name="Administrators"), Group.objects.get(name="Users")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_right_is_in_the_catalogue_and_administrators_hold_it(demo_roles):
    administrators, users = demo_roles
    assert administrators.permissions.filter(codename="manage_users").exists()
    assert not users.permissions.filter(codename="manage_users").exists()


def test_a_user_without_the_right_gets_the_explaining_page_not_a_bare_403(demo_roles):
    # given a member of Users
    _administrators, users = demo_roles
    member = UserFactory(username="medewerker", groups=[users])
    # when they open the user pages
    for url in ("/admin/auth/user/", "/admin/auth/user/add/",
                f"/admin/auth/user/{member.pk}/change/"):
        answer = logged_in(member).get(url)
        # then the page names the missing right
        assert answer.status_code == 403, url
        assert "Geen toegang" in answer.content.decode() and "Gebruikers" in \
            answer.content.decode()
    assert not member.has_perm(MANAGE_USERS)


def test_a_holder_adds_a_user_in_a_role_and_cannot_make_a_superuser(demo_roles):
    # given the demo administrator
    _administrators, users = demo_roles
    admin = User.objects.get(username="beheerder")
    client = logged_in(admin)
    # when adding a user in the role Users, with a smuggled is_superuser
    answer = client.post("/admin/auth/user/add/", {
        "username": "anneke", "usable_password": "true", "password1": "Zomer-wandeling-42",
        "password2": "Zomer-wandeling-42", "first_name": "Anneke", "last_name": "Jansen",
        "email": "anneke@example.nl", "groups": [users.pk], "is_superuser": "on"})
    # then the user exists, staff, in Users, not a superuser
    assert answer.status_code == 302, answer.content.decode()[:2000]
    anneke = User.objects.get(username="anneke")
    assert anneke.is_staff and not anneke.is_superuser
    assert list(anneke.groups.all()) == [users]
