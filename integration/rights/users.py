"""Gebruikers: the admin's user pages, gated by the right "Gebruikers" (applicatie instellingen).

Django's own user admin needs the model permissions auth.add_user / change_user, which no role
of PerfectView holds, so the demo administrator met a bare "403 Forbidden". Here the right of
the catalogue decides, like every other page of ours: holders add users, change them, reset a
password, deactivate them (never delete: the sync log and the rights' audit trail name users)
and put them in roles; anybody else gets the page that explains which right is missing.

What a holder cannot do: make anyone a superuser, give rights to a user directly (rights go
through roles, README "Rechten"), see or change a superuser (unless a superuser themself), or
deactivate themself. Every user made here is staff: PerfectView runs in the admin's frame.
"""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from .access import missing_right_response
from .catalogue import MANAGE_USERS


def _explain_refusal(view):
    """The missing-right page instead of the admin's bare 403."""

    @functools.wraps(view)
    def wrapped(self, request, *args, **kwargs):
        if not request.user.has_perm(MANAGE_USERS):
            return missing_right_response(request, MANAGE_USERS)
        return view(self, request, *args, **kwargs)
    return wrapped


class PerfectViewUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "roles", "is_active"]
    list_filter = ["is_active", "groups"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Persoonlijke gegevens"), {"fields": ("first_name", "last_name", "email")}),
        (_("Rollen en toegang"), {"fields": ("is_active", "groups")}),
        (_("Belangrijke datums"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Persoonlijke gegevens"), {"fields": ("first_name", "last_name", "email")}),
        (_("Rollen"), {"fields": ("groups",)}),
    )
    readonly_fields = ["last_login", "date_joined"]
    actions = ["deactivate"]

    @admin.display(description=_("Rollen"))
    def roles(self, user) -> str:
        return ", ".join(role.name for role in user.groups.all())

    def get_queryset(self, request):
        users = super().get_queryset(request).prefetch_related("groups")
        return users if request.user.is_superuser else users.filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            fields.append("is_active")  # nobody locks themself out
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["label"] = _("Rollen")
            kwargs["help_text"] = _("De rechten van een gebruiker komen uit zijn rollen; welke "
                                    "rechten een rol heeft, zie je onder Rechten.")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.is_staff = True
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Geselecteerde gebruikers deactiveren"))
    def deactivate(self, request, queryset):
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(request, _("%(count)d gebruiker(s) gedeactiveerd.") % {"count": count})

    # --- the right decides ---------------------------------------------------------------------

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_perm(MANAGE_USERS)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: the log and the audit trail name users

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    changelist_view = _explain_refusal(UserAdmin.changelist_view)
    add_view = _explain_refusal(UserAdmin.add_view)
    change_view = _explain_refusal(UserAdmin.change_view)
    history_view = _explain_refusal(UserAdmin.history_view)
    user_change_password = _explain_refusal(UserAdmin.user_change_password)


def register(site=admin.site) -> None:
    if site.is_registered(User):
        site.unregister(User)
    site.register(User, PerfectViewUserAdmin)
