"""URLs: Django's admin is the application; the connector pages hang below it."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = _("PerfectView – DigitaleFactuur koppeling")
admin.site.site_title = _("PerfectView koppelingen")
admin.site.index_title = _("Beheer")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    # The connector pages live in the admin's frame; they are mounted before the admin's own
    # catch-all so that /admin/<name>/ is not taken for an app label.
    path("admin/rechten/", include("integration.rights.urls")),
    path("admin/koppelingen/", include("integration.connectors.urls")),
    path("admin/koppelingen/digitalefactuur/", include("integration.digitalefactuur.urls")),
    # The admin's index pages of the apps whose only entry is a link to our page would be an
    # in-between page with one link: their heading leads straight to the page.
    path("admin/connectors/", admin.site.admin_view(
        RedirectView.as_view(pattern_name="connectors:index", permanent=False))),
    path("admin/rights/", admin.site.admin_view(
        RedirectView.as_view(pattern_name="rights:matrix", permanent=False))),
    path("admin/", admin.site.urls),
]
