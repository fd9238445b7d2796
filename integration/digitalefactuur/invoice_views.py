"""The PDF of an invoice, opened through our server.

The browser asks `/admin/koppelingen/digitalefactuur/facturen/<pk>/pdf/` (our invoice row's id);
the server checks the login and both rights (relations may be seen, and Digitale Factuur), then
fetches the PDF with the stored credentials and streams it back. The access code travels only
between this server and DigitaleFactuur: it is never in a URL the browser sees.
"""

from __future__ import annotations

import io
import logging

from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from integration.rights.access import RightRequiredMixin, missing_right_response
from integration.rights.catalogue import DIGITALE_FACTUUR

from .errors import DigitaleFactuurError
from .invoice_models import Invoice
from .models import DigitaleFactuurSettings
from .templatetags.digitalefactuur_invoices import VIEW_RELATIONS, may_see_relations

logger = logging.getLogger(__name__)


@method_decorator(never_cache, name="dispatch")
class InvoicePdfView(RightRequiredMixin, View):
    required_right = DIGITALE_FACTUUR

    def get(self, request, pk: int):
        if not may_see_relations(request.user):
            return missing_right_response(request, VIEW_RELATIONS)
        invoice = Invoice.objects.filter(pk=pk).first()
        if invoice is None:
            raise Http404(_("Deze factuur is niet bekend."))
        df = DigitaleFactuurSettings.load()
        try:
            if not (df.active and df.account_id and df.has_access_code):
                raise LookupError
            with df.client() as client:
                pdf = client.download_invoice_pdf(invoice.df_id)
        except (DigitaleFactuurError, LookupError) as error:
            logger.info("invoice PDF %s not fetched: %s", invoice.pk, type(error).__name__)
            return TemplateResponse(request, "digitalefactuur/invoice_pdf_failed.html", {
                "title": _("Factuur niet geopend"), "invoice": invoice,
                "reason": str(error) if isinstance(error, DigitaleFactuurError)
                else _("De koppeling met Digitale Factuur is niet actief."),
            }, status=502)
        safe_number = "".join(c for c in invoice.number if c.isalnum() or c in "-_") or "factuur"
        response = FileResponse(io.BytesIO(pdf), content_type="application/pdf",
                                filename=f"factuur-{safe_number}.pdf")
        response["X-Content-Type-Options"] = "nosniff"
        return response
