"""Admin index entries that are links to a page of ours, not data.

Shared by the apps (it depends on Django alone, so the rights layer may use it too). Rechten,
Koppelingen and the DigitaleFactuur settings appear in the admin's index and side menu through a
ModelAdmin, because that is how the admin builds its menu. Such an entry exposes only its list
URL, which redirects to the page; the admin's object URLs (change, delete, history) would
otherwise exist and, for a table-less model, query a table that is not there.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import path, reverse


class AdminLink(admin.ModelAdmin):
    """A menu entry that leads to `target` (a URL name); subclasses say who may see it."""

    target: str = ""

    def may_see(self, request) -> bool:
        raise NotImplementedError

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [path("", self.admin_site.admin_view(self.changelist_view),
                     name="{}_{}_changelist".format(*info))]

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and self.may_see(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(reverse(self.target))
