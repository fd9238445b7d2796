"""The connector's additions to the admin: a filter on the relation list.

The settings have their own screen (views.py), reached through Koppelingen, and no admin entry
of their own: one "Koppelingen" in the menu leads to every connector (README, "Navigation").

The relation list gets the filter "DigitaleFactuur: laatste synchronisatie mislukt", which the
settings screen's count of failed relations links to. The CRM does not know the connector
(DESIGN.md): the connector adds its filter to the CRM's registered admin here, the way it
listens to the CRM's saves.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from integration.crm.models import Relation

from .health import FAILED_FILTER_PARAMETER, FAILED_FILTER_VALUE, relations_whose_last_sync_failed


class LastSyncFailedFilter(admin.SimpleListFilter):
    title = _("DigitaleFactuur")
    parameter_name = FAILED_FILTER_PARAMETER

    def lookups(self, request, model_admin):
        return [(FAILED_FILTER_VALUE, _("laatste synchronisatie mislukt"))]

    def queryset(self, request, queryset):
        if self.value() == FAILED_FILTER_VALUE:
            return queryset.filter(pk__in=relations_whose_last_sync_failed().values("pk"))
        return queryset


def add_relation_filter(site=admin.site) -> None:
    relation_admin = site._registry.get(Relation)
    if relation_admin is not None and LastSyncFailedFilter not in relation_admin.list_filter:
        relation_admin.list_filter = [*relation_admin.list_filter, LastSyncFailedFilter]


add_relation_filter()

# Facturen: the open amount and "met achterstallige facturen" in the relation list.
from . import invoice_admin  # noqa: E402, F401
