"""URLs of the DigitaleFactuur pages (mounted at /admin/koppelingen/digitalefactuur/).

The sync log of this connector is the connectors app's: /admin/koppelingen/digitalefactuur/
logboek/ (integration.connectors.urls, matched first).
"""

from django.urls import path

from . import field_views, invoice_views, run_views, views

app_name = "digitalefactuur"
urlpatterns = [
    path("", views.KoppelingView.as_view(), name="settings"),
    path("api-gegevens/", views.ApiHelpView.as_view(), name="api_help"),
    path("gekoppelde-velden/", field_views.MappedFieldsView.as_view(), name="fields"),
    path("uitvoeren/", run_views.RunNowView.as_view(), name="run"),
    path("voorbeeld/", run_views.PreviewView.as_view(), name="preview"),
    path("runs/<int:pk>/fouten-opnieuw/", run_views.RetryView.as_view(), name="retry"),
    path("facturen/<int:pk>/pdf/", invoice_views.InvoicePdfView.as_view(), name="invoice_pdf"),
]
