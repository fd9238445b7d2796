"""The Koppelingen page: one tile per connector of the registry, active or not.

Who may see it: holders of the right Koppelingen, or of the right of any connector listed (the
manual has the administrator switch on only Digitale Factuur, then open Koppelingen). Others get
the rights app's explaining 403 page for Koppelingen; anonymous visitors go to the login.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from integration.rights.access import missing_right_response, refusal
from integration.rights.catalogue import CONNECTORS

from . import registry


def may_see_overview(user) -> bool:
    rights = {CONNECTORS, *(c.right for c in registry.connectors() if c.right)}
    return any(user.has_perm(right) for right in rights)


@never_cache
def index(request):
    if not request.user.is_authenticated:
        return refusal(request, CONNECTORS)
    if not may_see_overview(request.user):
        return missing_right_response(request, CONNECTORS)
    tiles = []
    for connector in registry.connectors():
        allowed = connector.right is None or request.user.has_perm(connector.right)
        # The health names runs and relations: only for those who may see the connector.
        health = connector.health() if allowed else None
        tiles.append({
            "connector": connector,
            "active": connector.is_active(),
            "url": reverse(connector.settings_url_name) if connector.available else None,
            "allowed": allowed,
            "health_level": health[0] if health else "",
            "health_line": health[1] if health else "",
        })
    context = {**admin.site.each_context(request), "title": _("Koppelingen"), "tiles": tiles}
    return TemplateResponse(request, "connectors/index.html", context)
