"""Puts "Koppelingen" in the admin's index and side menu, pointing at the Koppelingen page.

Shown to whoever may open that page (views.may_see_overview); it is a link only: its list
view redirects, and nothing can be added, changed or deleted through it.
"""

from django.contrib import admin

from integration.admin_links import AdminLink

from .models import Koppelingen
from .views import may_see_overview


@admin.register(Koppelingen)
class KoppelingenAdmin(AdminLink):
    target = "connectors:index"

    def may_see(self, request) -> bool:
        return may_see_overview(request.user)
