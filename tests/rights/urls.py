"""Test-only URLs: the project's URLs plus two pages gated by the Digitale Factuur right.

No real page is gated by that right yet; these stand in for the Koppelingen pages, one built on
the mixin and one on the decorator. Used with `@pytest.mark.urls("tests.rights.urls")`.
"""

from django.http import HttpResponse
from django.urls import path
from django.views import View

from integration.rights.access import RightRequiredMixin, right_required
from integration.rights.catalogue import DIGITALE_FACTUUR
from settings.urls import urlpatterns as project_urlpatterns

GATED_TEXT = "Instellingen van de DigitaleFactuur koppeling"


class GatedView(RightRequiredMixin, View):
    required_right = DIGITALE_FACTUUR

    def get(self, request):
        return HttpResponse(GATED_TEXT)


@right_required(DIGITALE_FACTUUR)
def gated_function(request):
    return HttpResponse(GATED_TEXT)


urlpatterns = [
    path("test/gated-class/", GatedView.as_view(), name="gated-class"),
    path("test/gated-function/", gated_function, name="gated-function"),
    *project_urlpatterns,
]
