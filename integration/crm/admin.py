"""The relation screens, grouped like PerfectView's tabs."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Relation, RelationType


@admin.register(RelationType)
class RelationTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name"]


def _address(block: str) -> tuple[str, ...]:
    return (f"{block}_street", (f"{block}_postcode", f"{block}_city"), f"{block}_country")


@admin.register(Relation)
class RelationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "relation_type", "debtor_number", "creditor_number",
                    "invoice_city", "updated_at"]
    list_filter = ["kind", "relation_type"]
    search_fields = ["organisation_name", "surname", "first_name", "debtor_number",
                     "creditor_number", "email", "coc_number", "invoice_city"]
    list_select_related = ["relation_type"]
    list_per_page = 50
    readonly_fields = ["created_at", "updated_at"]
    radio_fields = {"kind": admin.HORIZONTAL}
    fieldsets = [
        (_("Gegevens"), {"fields": ["kind", "relation_type", "organisation_name",
                                    ("first_name", "surname_prefix", "surname")]}),
        (_("Communicatie"), {"fields": ["email", "phone", "fax"]}),
        (_("Communicatie – Bezoekadres"), {"fields": _address("visiting")}),
        (_("Communicatie – Post"), {"fields": _address("postal")}),
        (_("Financieel – Factuur"), {"fields": _address("invoice")}),
        (_("Financieel – Administratie"),
         {"fields": ["debtor_number", "creditor_number", "vat_number"]}),
        (_("Financieel – Bank"), {"fields": ["iban", "bic"]}),
        (_("Privé adres"), {"fields": [*_address("private"), "private_fax"]}),
        (_("Overige – Identificatie"), {"fields": ["coc_number"]}),
        (_("Overige"), {"fields": ["created_at", "updated_at"]}),
    ]
