"""The POSTs that start runs: "Koppeling uitvoeren", "Voorbeeld", "Fouten opnieuw proberen".

POST only (with CSRF), gated by the Digitale Factuur right, answered with a redirect to the run's
page in the sync log (post/redirect/get). Each is idempotent while a run is open: a second click,
a double click, or a click in a second tab opens the run already queued or running and queues
nothing (`runs.request_*` decide that under a row lock).

When no run may start (connector inactive, untested, nothing chosen) nothing is queued and the
settings screen says why: the button there is disabled with the same reason, so this only
happens with a page that was open while the settings changed.

Unsaved changes are never silently ignored: the screen's run buttons submit the settings form
(with the marker `options_shown`), and a request whose fields differ from the stored settings
queues nothing; the screen comes back with the changes still in it, the reason, and "Opslaan
en uitvoeren". A request without the marker (another page's button, a script) carries no
options and is not compared.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from integration.connectors.models import SyncRun
from integration.rights.access import RightRequiredMixin
from integration.rights.catalogue import DIGITALE_FACTUUR

from . import runs
from .forms import KoppelingForm
from .models import DigitaleFactuurSettings, Purpose
from .sync import CONNECTOR
from .views import KoppelingView


class _RunPost(RightRequiredMixin, View):
    required_right = DIGITALE_FACTUUR
    http_method_names = ["post"]

    def unsaved(self, request, df):
        """The screen again, with the reason, when the posted fields differ from the stored."""
        if "options_shown" not in request.POST:
            return None
        form = KoppelingForm(request.POST, instance=DigitaleFactuurSettings.load())
        if not form.has_changed():
            return None
        changed = ", ".join(str(form.fields[name].label) for name in form.changed_data)
        messages.error(request, _(
            "Er is geen run gestart: je hebt wijzigingen die nog niet zijn opgeslagen "
            "(%(fields)s). Een run gebruikt de opgeslagen instellingen. Klik op „Opslaan en "
            "uitvoeren” om ze eerst op te slaan.") % {"fields": changed})
        view = KoppelingView()
        view.setup(request)
        return view.render(request, form, DigitaleFactuurSettings.load(), unsaved=True)


@method_decorator(never_cache, name="dispatch")
class RunNowView(_RunPost):
    """"Koppeling uitvoeren": queue a full run now, or open the one under way."""

    def post(self, request):
        df = DigitaleFactuurSettings.load()
        return self.unsaved(request, df) or runs.start_run(request, df)


@method_decorator(never_cache, name="dispatch")
class PreviewView(_RunPost):
    """"Voorbeeld": queue a dry run and open its page."""

    def post(self, request):
        df = DigitaleFactuurSettings.load()
        return self.unsaved(request, df) or runs.start_preview(request, df)


@method_decorator(never_cache, name="dispatch")
class RetryView(_RunPost):
    """"Fouten opnieuw proberen": a run limited to the relations whose export failed."""

    def post(self, request, pk):
        source = get_object_or_404(SyncRun, pk=pk, connector=CONNECTOR, dry_run=False)
        df = DigitaleFactuurSettings.load()
        # A retry only sends: the rule for a push, as its button on the run page asks.
        refused = runs.refused(request, df, Purpose.PUSH)
        if refused is not None:
            return refused
        retry, created = runs.request_retry(df, source, request.user)
        if retry is None:
            messages.warning(request, _("Deze run heeft geen mislukte relaties die opnieuw naar "
                                        "DigitaleFactuur kunnen worden gestuurd."))
            return redirect(runs.run_url(source))
        if created:
            messages.success(request, _("De relaties met fouten worden opnieuw geprobeerd."))
        else:
            messages.info(request, _("Er loopt al een synchronisatie; er is geen tweede "
                                     "gestart. Probeer de fouten opnieuw als die klaar is."))
        return redirect(runs.run_url(retry))
