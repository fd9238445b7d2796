"""Puts "DigitaleFactuur koppeling" in the admin's index, pointing at the settings screen.

The settings are edited on their own screen (views.py), never through a ModelAdmin form, which
would show the encrypted code and skip the test-before-options rule; the entry is a link only,
shown to holders of the Digitale Factuur right.
"""

from django.contrib import admin

from integration.admin_links import AdminLink
from integration.rights.catalogue import DIGITALE_FACTUUR

from .models import DigitaleFactuurSettings


@admin.register(DigitaleFactuurSettings)
class DigitaleFactuurSettingsAdmin(AdminLink):
    target = "digitalefactuur:settings"

    def may_see(self, request) -> bool:
        return request.user.has_perm(DIGITALE_FACTUUR)
