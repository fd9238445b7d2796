"""The reusable check: rights add up across roles; the gate, its 403 page and the template tag."""

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.template import Context, Template
from django.test import RequestFactory

from integration.rights.catalogue import DIGITALE_FACTUUR, MANAGE_RIGHTS
from tests.factories import RoleFactory, UserFactory
from tests.rights.urls import GATED_TEXT

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rights.urls")]

GATED_PAGES = ["/test/gated-class/", "/test/gated-function/"]


def fresh(user: User) -> User:
    """The user read again: Django caches permissions on the object."""
    return User.objects.get(pk=user.pk)


def test_rights_add_up_across_roles():
    """A user in two roles holds every right either role grants, and loses one with its role."""
    # given
    finance = RoleFactory(rights=[DIGITALE_FACTUUR])
    managers = RoleFactory(rights=[MANAGE_RIGHTS])
    user = UserFactory(groups=[finance, managers])
    # when / then
    assert fresh(user).has_perm(DIGITALE_FACTUUR)
    assert fresh(user).has_perm(MANAGE_RIGHTS)
    # when
    user.groups.remove(finance)
    # then
    assert not fresh(user).has_perm(DIGITALE_FACTUUR)
    assert fresh(user).has_perm(MANAGE_RIGHTS)


def test_a_right_switched_off_in_one_role_still_counts_from_another():
    """Rights are a union: red in one role does not cancel green in another."""
    # given
    finance = RoleFactory(rights=[DIGITALE_FACTUUR])
    other = RoleFactory()
    user = UserFactory(groups=[finance, other])
    # when
    other.permissions.clear()
    # then
    assert fresh(user).has_perm(DIGITALE_FACTUUR)


@pytest.mark.parametrize("url", GATED_PAGES)
def test_anonymous_users_go_to_the_admin_login(client, url):
    """Nobody unknown sees a gated page; the login brings them back afterwards."""
    # given: no login
    # when
    response = client.get(url)
    # then
    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={url}"


@pytest.mark.parametrize("url", GATED_PAGES)
def test_a_user_with_the_right_opens_the_page(client, url):
    """The gate lets a holder of the right through, whatever role grants it."""
    # given
    client.force_login(UserFactory(groups=[RoleFactory(rights=[DIGITALE_FACTUUR])]))
    # when
    response = client.get(url)
    # then
    assert response.status_code == 200
    assert response.content.decode() == GATED_TEXT


@pytest.mark.parametrize("url", GATED_PAGES)
def test_a_user_without_the_right_gets_the_explaining_page(client, url):
    """403 with the missing right, the roles that could hold it, and the way to Rechten."""
    # given
    own_role = RoleFactory(name="Boekhouding")
    RoleFactory(name="Financieel", rights=[DIGITALE_FACTUUR])
    client.force_login(UserFactory(groups=[own_role]))
    # when
    response = client.get(url)
    # then
    assert response.status_code == 403
    page = " ".join(response.content.decode().split())
    assert "rights/missing_right.html" in [t.name for t in response.templates]
    assert "<strong>Koppelingen - Financieel › Digitale Factuur</strong>" in page
    assert "applicatie instellingen" in page
    assert "<strong>Boekhouding</strong> – jij zit in deze rol" in page
    assert "<strong>Financieel</strong>" in page and "heeft dit recht al" in page
    assert 'href="/admin/rechten/#recht-' in page
    assert "Vraag een beheerder" in page


def test_the_explaining_page_tells_a_rights_manager_to_switch_it_on(client):
    """Someone who may manage rights is told to turn the block green themselves."""
    # given
    client.force_login(UserFactory(groups=[RoleFactory(rights=[MANAGE_RIGHTS])]))
    # when
    response = client.get(GATED_PAGES[0])
    # then
    assert response.status_code == 403
    assert "Jij mag de rechten beheren" in response.content.decode()


def test_a_user_without_staff_status_is_gated_on_the_right_alone(client):
    """The gate asks for the right, not for staff status (see access.py)."""
    # given
    client.force_login(UserFactory(is_staff=False,
                                   groups=[RoleFactory(rights=[DIGITALE_FACTUUR])]))
    # when
    response = client.get(GATED_PAGES[0])
    # then
    assert response.status_code == 200


def test_the_template_tag_answers_like_the_gate():
    """{% has_right %} is True only for a user holding the right, never for anonymous."""
    # given
    template = Template('{% load rights %}{% has_right right as allowed %}'
                        '{% if allowed %}ja{% else %}nee{% endif %}')
    holder = UserFactory(groups=[RoleFactory(rights=[DIGITALE_FACTUUR])])
    other = UserFactory()

    def render(user):
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"request": request, "right": DIGITALE_FACTUUR}))

    # when / then
    assert render(holder) == "ja"
    assert render(other) == "nee"
    assert render(AnonymousUser()) == "nee"
