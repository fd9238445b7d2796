""""Gekoppelde velden": the manual's section C as a page of the product.

Drawn from the declared mapping (`fields.mapped_fields`), so it says what the engine does. Linked
from the settings screen and from every field diff in the sync log; gated, like the other pages
of the connector, by the Digitale Factuur right.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from integration.rights.access import RightRequiredMixin
from integration.rights.catalogue import DIGITALE_FACTUUR

from .fields import mapped_fields


@method_decorator(never_cache, name="dispatch")
class MappedFieldsView(RightRequiredMixin, TemplateView):
    required_right = DIGITALE_FACTUUR
    template_name = "digitalefactuur/gekoppelde_velden.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **admin.site.each_context(self.request),
                "title": _("Gekoppelde velden"), "sections": mapped_fields()}
