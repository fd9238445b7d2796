"""Changing a role's rights and members, and recording every change of a right in the audit trail.

Every change of a catalogue right on a role is recorded, wherever it is made: the Rechten page,
Django's group admin, a shell or a data loader. That is why the trail is written by a listener on
`Group.permissions` rather than by the page: one path, nothing slips past it. The page says who
is acting through `acting_as`; a change made without it is recorded without a user.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from .catalogue import MANAGE_RIGHTS
from .models import Right, RightChange, State

_acting_user: ContextVar = ContextVar("rights_acting_user", default=None)


class LastRightsManagerError(Exception):
    """The change would leave nobody able to manage rights, so it is refused."""


@contextmanager
def acting_as(user) -> Iterator[None]:
    """Changes of rights inside this block are recorded as made by `user`."""
    token = _acting_user.set(user)
    try:
        yield
    finally:
        _acting_user.reset(token)


def permission_for(perm: str) -> Permission | None:
    """The Permission behind an "app_label.codename" string, or None when there is none."""
    app_label, _dot, codename = perm.partition(".")
    return (Permission.objects.select_related("content_type")
            .filter(content_type__app_label=app_label, codename=codename).first())


def state_of(role: Group, right: Right) -> State:
    if role.permissions.filter(pk=right.permission_id).exists():
        return State.ON
    if RightChange.objects.filter(role=role, right=right).exists():
        return State.OFF
    return State.UNSET


def set_right(role: Group, right: Right, on: bool, by) -> State:
    """Switch `right` on or off for `role` as user `by`; returns the block's new state.

    Setting a right to the state it already has changes nothing and records nothing, so a
    double click or a resent form is harmless.
    """
    with transaction.atomic(), acting_as(by):
        if on:
            role.permissions.add(right.permission)
        else:
            role.permissions.remove(right.permission)
        ensure_someone_manages_rights()
    return state_of(role, right)


def add_member(role: Group, user) -> None:
    user.groups.add(role)


def remove_member(role: Group, user) -> None:
    with transaction.atomic():
        user.groups.remove(role)
        ensure_someone_manages_rights()


def ensure_someone_manages_rights() -> None:
    """Refuse (and so roll back) a change after which nobody could manage rights.

    Without this guard an administrator could switch off the Rechten right of their own and last
    such role, and only a superuser in a shell could repair it. Only users who can open the
    Rechten page count: active staff (the admin lets nobody else in), superusers included; a
    member without staff status holds the right but can never use it.
    """
    permission = permission_for(MANAGE_RIGHTS)
    managers = get_user_model().objects.filter(is_active=True, is_staff=True).filter(
        Q(is_superuser=True) | Q(groups__permissions=permission)
        | Q(user_permissions=permission))
    if not managers.exists():
        raise LastRightsManagerError


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="rights_audit_trail")
def record_right_changes(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Write one audit entry per (role, catalogue right) that is about to change.

    The "pre_" actions are used because only before a remove or clear is it known which links
    really exist; Django sends remove with every id it was given, present or not. The entries
    are written in the caller's transaction, so a refused change leaves no trail.
    """
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    links = Group.permissions.through.objects
    if reverse:  # permission.group_set.add(...): the instance is the Permission
        existing = links.filter(permission_id=instance.pk)
        if pk_set is not None:
            existing = existing.filter(group_id__in=pk_set)
        if action == "pre_add":
            pairs = {(group_id, instance.pk) for group_id in pk_set}
        else:
            pairs = set(existing.values_list("group_id", "permission_id"))
    else:
        existing = links.filter(group_id=instance.pk)
        if pk_set is not None:
            existing = existing.filter(permission_id__in=pk_set)
        if action == "pre_add":
            pairs = {(instance.pk, permission_id) for permission_id in pk_set}
        else:
            pairs = set(existing.values_list("group_id", "permission_id"))
    if not pairs:
        return
    rights = Right.objects.in_bulk({permission_id for _group, permission_id in pairs},
                                   field_name="permission_id")
    pairs = {(group_id, permission_id) for group_id, permission_id in pairs
             if permission_id in rights}
    if not pairs:
        return
    _write_entries(pairs, rights, turned_on=action == "pre_add")


def _write_entries(pairs: set[tuple[int, int]], rights: dict, turned_on: bool) -> None:
    roles = Group.objects.in_bulk({group_id for group_id, _permission in pairs})
    ever_set = set(RightChange.objects.filter(
        role_id__in=roles, right__in=rights.values()).values_list("role_id", "right_id"))
    user = _acting_user.get()
    entries = []
    for group_id, permission_id in sorted(pairs):
        right = rights[permission_id]
        if turned_on:
            old = State.OFF if (group_id, right.pk) in ever_set else State.UNSET
        else:
            old = State.ON
        entries.append(RightChange(
            role=roles[group_id], role_name=roles[group_id].name, right=right,
            old_state=old, new_state=State.ON if turned_on else State.OFF,
            changed_by=user, changed_by_name=user.get_username() if user else ""))
    RightChange.objects.bulk_create(entries)
