"""The audit trail records a right's changes wherever they are made, not only on the page."""

import pytest

from integration.rights.catalogue import DIGITALE_FACTUUR, MANAGE_RIGHTS
from integration.rights.changes import permission_for, set_right
from integration.rights.models import Right, RightChange, State
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_change_outside_the_page_is_recorded_without_a_user():
    """The group admin or a shell also leaves a trail; there is just nobody to name."""
    # given
    role = RoleFactory()
    # when
    role.permissions.add(permission_for(DIGITALE_FACTUUR))
    # then
    change = RightChange.objects.get(role=role)
    assert (change.old_state, change.new_state, change.changed_by) == (
        State.UNSET, State.ON, None)


def test_changes_from_the_permission_side_and_clear_are_recorded():
    """permission.group_set.add() and group.permissions.clear() pass the same listener."""
    # given
    role = RoleFactory()
    permission = permission_for(DIGITALE_FACTUUR)
    # when
    permission.group_set.add(role)
    role.permissions.clear()
    # then
    assert [(c.old_state, c.new_state) for c in RightChange.objects.filter(role=role)] == [
        (State.ON, State.OFF), (State.UNSET, State.ON)]


def test_removing_a_right_the_role_never_had_records_nothing():
    """Django announces a remove with every id it was given; only real changes are kept."""
    # given
    role = RoleFactory()
    # when
    role.permissions.remove(permission_for(DIGITALE_FACTUUR))
    # then
    assert not RightChange.objects.exists()


def test_the_acting_user_and_names_are_kept_after_role_and_user_are_deleted():
    """The trail still reads after the role and the user it names are gone."""
    # given
    role = RoleFactory(name="Tijdelijk")
    user = UserFactory(username="oud-collega", groups=[RoleFactory(rights=[MANAGE_RIGHTS])])
    right = Right.objects.get(permission__codename="digitalefactuur")
    set_right(role, right, True, by=user)
    # when
    role.delete()
    user.delete()
    # then
    change = RightChange.objects.get(right=right)
    assert (change.role, change.role_name, change.changed_by, change.changed_by_name) == (
        None, "Tijdelijk", None, "oud-collega")


def test_permissions_outside_the_catalogue_are_not_in_the_trail():
    """Django's model permissions (the CRM's) are not rights of the Rechten page."""
    # given
    role = RoleFactory()
    # when
    role.permissions.add(permission_for("crm.view_relation"))
    # then
    assert not RightChange.objects.exists()
