"""Facturen in the relation list: a column with the open amount and the filter "met
achterstallige facturen", so an administrator finds whom to call.

Like the filter in `admin.py`, the connector adds them to the CRM's registered relation admin
(the CRM does not know the connector). Both are shown only to holders of the Digitale Factuur
right; the open amount comes with the list's own query (a subquery), not one query per row.
"""

from __future__ import annotations

from types import MethodType

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from integration.crm.models import Relation

from .invoices import open_total_subquery, relations_with_overdue_invoices
from .templatetags.digitalefactuur_invoices import may_see_invoices

OVERDUE_PARAMETER = "df_facturen"
OVERDUE_VALUE = "achterstallig"
OPEN_TOTAL = "df_open_total"


class OverdueInvoicesFilter(admin.SimpleListFilter):
    title = _("Facturen")
    parameter_name = OVERDUE_PARAMETER

    def lookups(self, request, model_admin):
        return [(OVERDUE_VALUE, _("met achterstallige facturen"))]

    def queryset(self, request, queryset):
        if self.value() == OVERDUE_VALUE:
            return queryset.filter(pk__in=relations_with_overdue_invoices())
        return queryset


@admin.display(description=_("Openstaand (berekend)"), ordering=OPEN_TOTAL)
def open_amount(relation) -> str:
    total = getattr(relation, OPEN_TOTAL, None)
    if total is None:
        return "–"
    from django.template.defaultfilters import floatformat

    return f"€ {floatformat(total, '2g')}"


def add_invoice_column_and_filter(site=admin.site) -> None:
    relation_admin = site._registry.get(Relation)
    if relation_admin is None or getattr(relation_admin, "_df_invoices_added", False):
        return
    relation_admin._df_invoices_added = True
    get_queryset = relation_admin.get_queryset
    get_list_display = relation_admin.get_list_display
    get_list_filter = relation_admin.get_list_filter

    def with_open_total(_admin, request):
        queryset = get_queryset(request)
        if may_see_invoices(request.user):
            queryset = queryset.annotate(**{OPEN_TOTAL: open_total_subquery()})
        return queryset

    def list_display(_admin, request):
        shown = list(get_list_display(request))
        return [*shown, open_amount] if may_see_invoices(request.user) else shown

    def list_filter(_admin, request):
        shown = list(get_list_filter(request))
        return [*shown, OverdueInvoicesFilter] if may_see_invoices(request.user) else shown

    # Bound like methods: the admin's checks look for `__func__`.
    relation_admin.get_queryset = MethodType(with_open_total, relation_admin)
    relation_admin.get_list_display = MethodType(list_display, relation_admin)
    relation_admin.get_list_filter = MethodType(list_filter, relation_admin)


add_invoice_column_and_filter()
