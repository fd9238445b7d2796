"""Puts "Rechten" in the admin's index and side menu, pointing at the Rechten page.

The catalogue itself is not edited in the admin (migrations own it), so the entry is a link only:
its list view redirects to the matrix. Every staff user sees it, as every staff user may look at
the matrix; changing stays with the holders of the Rechten right.
"""

from django.contrib import admin

from integration.admin_links import AdminLink

from .models import Right
from .users import register as register_users

# Gebruikers: the user pages gated by the right "Gebruikers" (users.py).
register_users()


@admin.register(Right)
class RightAdmin(AdminLink):
    target = "rights:matrix"

    def may_see(self, request) -> bool:
        return request.user.is_staff
