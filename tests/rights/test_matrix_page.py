"""The Rechten page: who sees what, and what a click (a POST) does or is refused."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from integration.rights.catalogue import DIGITALE_FACTUUR, MANAGE_RIGHTS
from integration.rights.models import Right, RightChange, State
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

MATRIX = "/admin/rechten/"
TOGGLE = "/admin/rechten/wissel/"


@pytest.fixture
def digitale_factuur() -> Right:
    return Right.objects.get(permission__codename="digitalefactuur")


@pytest.fixture
def manager() -> User:
    return UserFactory(username="beheerder-test", groups=[RoleFactory(rights=[MANAGE_RIGHTS])])


def block_state(page: str, right: Right) -> list[str]:
    """The states of a right's blocks, left to right, as the page shows them."""
    row = re.search(rf'<tr id="recht-{right.pk}".*?</tr>', page, re.S).group(0)
    return re.findall(r'class="rights-block rights-(\w+)"', row)


def test_a_new_role_starts_white_and_a_click_turns_it_green(client, manager, digitale_factuur):
    """The manual's step 4: the Digitale Factuur block is white, one click makes it green."""
    # given
    role = RoleFactory(name="Financieel")
    client.force_login(manager)
    assert block_state(client.get(MATRIX, {"rol": role.pk}).content.decode(),
                       digitale_factuur) == ["unset"]
    # when
    response = client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk,
                                    "turn": "on", "rol": role.pk})
    # then: Group.permissions is the truth, and the page shows it green
    assert response.status_code == 302
    assert response.url == f"{MATRIX}?rol={role.pk}#recht-{digitale_factuur.pk}"
    assert role.permissions.filter(pk=digitale_factuur.permission_id).exists()
    assert block_state(client.get(MATRIX, {"rol": role.pk}).content.decode(),
                       digitale_factuur) == ["on"]


def test_switching_off_turns_the_block_red_not_white(client, manager, digitale_factuur):
    """Red means switched off; white only ever means never set."""
    # given
    role = RoleFactory(rights=[DIGITALE_FACTUUR])
    client.force_login(manager)
    # when
    client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk, "turn": "off"})
    # then
    assert not role.permissions.filter(pk=digitale_factuur.permission_id).exists()
    assert block_state(client.get(MATRIX, {"rol": role.pk}).content.decode(),
                       digitale_factuur) == ["off"]


def test_a_click_writes_an_audit_entry_shown_newest_first(client, manager, digitale_factuur):
    """Who, when, role, right, old -> new: stored, and on the page with the newest on top."""
    # given
    role = RoleFactory(name="Financieel")
    client.force_login(manager)
    # when
    client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk, "turn": "on"})
    client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk, "turn": "off"})
    # then
    trail = list(RightChange.objects.filter(role=role))
    assert [(c.old_state, c.new_state) for c in trail] == [
        (State.ON, State.OFF), (State.UNSET, State.ON)]
    assert all(c.changed_by == manager and c.right == digitale_factuur for c in trail)
    page = client.get(MATRIX, {"rol": role.pk}).content.decode()
    audit = page[page.index('id="rights-audit"'):]
    assert audit.index("aan</td>") < audit.index("nooit ingesteld</td>")
    assert "beheerder-test" in audit and "Koppelingen - Financieel › Digitale Factuur" in audit


def test_asking_for_the_state_a_right_already_has_changes_nothing(client, manager,
                                                                  digitale_factuur):
    """A double click or a resent form neither flips the block back nor fills the trail."""
    # given
    role = RoleFactory()
    client.force_login(manager)
    # when
    for _attempt in range(2):
        client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk, "turn": "on"})
    # then
    assert role.permissions.filter(pk=digitale_factuur.permission_id).exists()
    assert RightChange.objects.filter(role=role).count() == 1


def test_javascript_gets_the_new_state_and_the_trail_as_json(client, manager, digitale_factuur):
    """rights.js asks for JSON and recolours the block without a reload."""
    # given
    role = RoleFactory()
    client.force_login(manager)
    # when
    response = client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk,
                                    "turn": "on", "rol": role.pk},
                           headers={"Accept": "application/json"})
    # then
    data = response.json()
    assert (data["state"], data["state_label"], data["turn"]) == ("on", "aan", "off")
    assert 'id="rights-audit"' in data["audit_html"]


def test_a_user_in_users_sees_the_matrix_read_only(client, digitale_factuur):
    """Without the Rechten right the blocks are coloured labels, not buttons."""
    # given
    client.force_login(UserFactory(groups=[Group.objects.get(name="Users")]))
    # when
    page = client.get(MATRIX).content.decode()
    # then
    assert "Je kunt de rechten alleen bekijken" in page
    assert 'class="rights-toggle"' not in page
    assert 'action="/admin/rechten/rol/"' not in page
    assert block_state(page, digitale_factuur)


def test_a_forged_toggle_from_a_user_without_the_right_is_refused(client, digitale_factuur):
    """The server checks again: a POST made by hand gets the explaining 403 and changes nothing."""
    # given
    users = Group.objects.get(name="Users")
    client.force_login(UserFactory(groups=[users]))
    # when
    response = client.post(TOGGLE, {"role": users.pk, "right": digitale_factuur.pk, "turn": "on"})
    # then
    assert response.status_code == 403
    assert "Rechten" in response.content.decode()
    assert not users.permissions.exists()
    assert not RightChange.objects.exists()


def test_a_toggle_without_csrf_token_is_refused(manager, digitale_factuur):
    """Even the rights manager's own session cannot be used by another site."""
    # given
    role = RoleFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    # when
    refused = client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk, "turn": "on"})
    # then
    assert refused.status_code == 403
    assert not role.permissions.exists()
    # and with the page's token the same POST goes through
    client.get(MATRIX)
    token = client.cookies["csrftoken"].value
    accepted = client.post(TOGGLE, {"role": role.pk, "right": digitale_factuur.pk, "turn": "on",
                                    "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    assert role.permissions.exists()


def test_anonymous_users_are_sent_to_the_login(client, digitale_factuur):
    """The page and its POST both need a login."""
    # given: no login
    # when
    page = client.get(MATRIX)
    post = client.post(TOGGLE, {"role": 1, "right": digitale_factuur.pk, "turn": "on"})
    # then
    assert page.status_code == post.status_code == 302
    assert page.url.startswith("/admin/login/?next=/admin/rechten/")


def test_the_last_way_to_manage_rights_cannot_be_switched_off(client):
    """Switching off Rechten in the only role that has it would lock everybody out."""
    # given: the test manager's role is the only one left with the Rechten right
    Group.objects.get(name="Administrators").permissions.clear()
    role = RoleFactory(rights=[MANAGE_RIGHTS])
    client.force_login(UserFactory(groups=[role]))
    manage = Right.objects.get(permission__codename="manage_rights")
    # when
    response = client.post(TOGGLE, {"role": role.pk, "right": manage.pk, "turn": "off"},
                           headers={"Accept": "application/json"})
    # then
    assert response.status_code == 409
    assert role.permissions.filter(pk=manage.permission_id).exists()
    assert not RightChange.objects.filter(role=role, new_state=State.OFF).exists()


def test_a_user_who_cannot_log_in_to_the_admin_is_not_the_last_rights_manager(client):
    """Only active staff can open the Rechten page, so only they keep rights manageable."""
    # given: no superuser, and the administrator the only member of Administrators
    assert not User.objects.filter(is_superuser=True).exists()
    administrators = Group.objects.get(name="Administrators")
    administrator = UserFactory(username="enige-beheerder", groups=[administrators])
    outsider = UserFactory(username="geen-medewerker", is_staff=False)
    client.force_login(administrator)
    members = f"/admin/rechten/rol/{administrators.pk}/gebruikers/"

    # when the administrator adds a user without staff status to Administrators, then leaves
    client.post(f"{members}toevoegen/", {"user": outsider.pk})
    response = client.post(f"{members}verwijderen/", {"user": administrator.pk}, follow=True)

    # then leaving is refused in Dutch: the remaining member cannot log in to manage rights
    assert administrators.user_set.filter(pk=outsider.pk).exists()
    assert administrators.user_set.filter(pk=administrator.pk).exists()
    assert "Enige-beheerder blijft in deze rol: anders kan niemand de rechten nog beheren" \
        in response.content.decode()


@pytest.mark.parametrize("form", [
    {"role": "abc", "right": "1", "turn": "on"}, {"role": "1", "right": "x'--", "turn": "on"},
    {"role": "²", "right": "1", "turn": "on"}, {"user": "abc"}, {"user": "١٢"},
])
def test_a_hand_made_post_with_an_id_that_is_not_one_is_a_400_that_says_so(client, manager,
                                                                           form):
    # given a manager, and a role to post to
    client.force_login(manager)
    role = RoleFactory()
    url = TOGGLE if "role" in form else f"/admin/rechten/rol/{role.pk}/gebruikers/toevoegen/"

    # when the form is posted with an id that is not a number
    answer = client.post(url, form)
    as_json = client.post(url, form, headers={"Accept": "application/json"})

    # then it is refused with a Dutch message, and nothing changed
    assert answer.status_code == as_json.status_code == 400
    assert "is geen geldig nummer" in answer.content.decode()
    assert "is geen geldig nummer" in as_json.json()["error"]
    assert not role.user_set.exists() and not RightChange.objects.filter(role=role).exists()


def test_plus_adds_a_role_with_every_block_white(client, manager):
    """'+' creates a role; a duplicate name is refused."""
    # given
    client.force_login(manager)
    # when
    response = client.post("/admin/rechten/rol/", {"name": "  Verkoop  "})
    client.post("/admin/rechten/rol/", {"name": "verkoop"})
    # then
    role = Group.objects.get(name="Verkoop")
    assert Group.objects.filter(name__iexact="verkoop").count() == 1
    assert response.url == f"{MATRIX}?rol={role.pk}"
    page = client.get(response.url).content.decode()
    matrix = page.split('class="rights-matrix"')[1].split('id="gebruikers"')[0]
    assert "rights-on" not in matrix and "rights-off" not in matrix
    assert "rights-unset" in matrix


def test_users_are_assigned_to_roles_on_the_same_page(client, manager):
    """Adding someone to a role gives them its rights; removing takes them away."""
    # given
    role = RoleFactory(rights=[DIGITALE_FACTUUR])
    colleague = UserFactory(username="collega")
    client.force_login(manager)
    # when
    client.post(f"/admin/rechten/rol/{role.pk}/gebruikers/toevoegen/", {"user": colleague.pk})
    # then
    assert User.objects.get(pk=colleague.pk).has_perm(DIGITALE_FACTUUR)
    assert "collega" in client.get(MATRIX, {"rol": role.pk}).content.decode()
    # when
    client.post(f"/admin/rechten/rol/{role.pk}/gebruikers/verwijderen/", {"user": colleague.pk})
    # then
    assert not User.objects.get(pk=colleague.pk).has_perm(DIGITALE_FACTUUR)


def test_rechten_is_linked_from_the_admin_index(client):
    """Every staff user finds Rechten in the admin's app list."""
    # given
    client.force_login(UserFactory(groups=[Group.objects.get(name="Users")]))
    # when
    index = client.get("/admin/").content.decode()
    followed = client.get("/admin/rights/right/")
    # then
    assert 'href="/admin/rights/right/"' in index
    assert followed.url == MATRIX
