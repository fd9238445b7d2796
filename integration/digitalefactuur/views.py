"""The screens of the connector: "DigitaleFactuur koppeling" and its help page.

Both are gated by the Digitale Factuur right (integration.rights.access). Every change is a POST
with CSRF, answered with a redirect (post/redirect/get), so a reload never submits twice and a
double submit only saves the same values twice.

"Koppeling testen" is a submit button of the same form: what is typed is validated and tested.
Only a successful test saves it (with the outcome): a failed test changes nothing that is stored
(credentials, options, schedule), shows the form again with what was typed (the code excepted:
it is never rendered back) and says that nothing was changed. A failed test of the credentials
already stored is remembered as the last test. The network call happens before anything is
written.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from integration.rights.access import RightRequiredMixin
from integration.rights.catalogue import DIGITALE_FACTUUR

from . import crypto, runs
from .connection import run_connection_test
from .forms import KoppelingForm
from .health import connector_health
from .models import DigitaleFactuurSettings, Purpose

TEST_ACTION = "test"
#: "Opslaan en uitvoeren" / "Opslaan en voorbeeld": save, then start what was asked.
SAVE_RUN_ACTION = "save_run"
SAVE_PREVIEW_ACTION = "save_preview"


class _Page(RightRequiredMixin):
    required_right = DIGITALE_FACTUUR

    def page_context(self, request, **extra) -> dict:
        return {**admin.site.each_context(request), **extra}


@method_decorator(never_cache, name="dispatch")
class KoppelingView(_Page, View):
    template_name = "digitalefactuur/koppeling.html"

    def get(self, request):
        df_settings = DigitaleFactuurSettings.load()
        return self.render(request, KoppelingForm(instance=df_settings), df_settings)

    def post(self, request):
        testing = request.POST.get("action") == TEST_ACTION
        df_settings = DigitaleFactuurSettings.load()
        was_unlocked = df_settings.options_unlocked
        form = KoppelingForm(request.POST, instance=df_settings, testing=testing)
        if not form.is_valid():
            messages.error(request, _("Niet opgeslagen: verbeter wat hieronder staat."))
            return self.render(request, form, DigitaleFactuurSettings.load())

        # The instance now holds the new values (and the new code, encrypted); nothing is
        # written yet, so a failure anywhere below leaves the stored settings as they were.
        df_settings = form.instance
        outcome = run_connection_test(df_settings) if testing else None
        if outcome is not None and not outcome.ok:
            return self.failed_test(request, form, outcome)
        form.save()  # the instance and its relation types (a many-to-many field)

        if outcome is not None:
            (messages.success if outcome.ok else messages.error)(request, outcome.message)
        else:
            messages.success(request, _("De instellingen van de DigitaleFactuur koppeling zijn "
                                        "opgeslagen."))
        if request.POST.get("action") in (SAVE_RUN_ACTION, SAVE_PREVIEW_ACTION):
            return self.run_after_save(request, df_settings)
        if was_unlocked and not df_settings.options_unlocked and outcome is None:
            messages.warning(request, _(
                "Het Account-id of de toegangscode is gewijzigd: de opties zijn vergrendeld tot "
                "de koppeling opnieuw met succes is getest."))
        elif not df_settings.options_unlocked and outcome is None and df_settings.account_id \
                and df_settings.has_access_code:
            messages.info(request, _("Test de koppeling om de opties te kunnen kiezen."))
        return redirect("digitalefactuur:settings")

    def run_after_save(self, request, df_settings):
        """"Opslaan en uitvoeren" / "Opslaan en voorbeeld", once the save succeeded."""
        preview = request.POST.get("action") == SAVE_PREVIEW_ACTION
        return (runs.start_preview if preview else runs.start_run)(request, df_settings)

    def failed_test(self, request, form, outcome) -> TemplateResponse:
        """A failed "Koppeling testen": nothing stored changes; the form keeps what was typed."""
        stored = DigitaleFactuurSettings.load()
        if form.instance.credentials_fingerprint() == stored.credentials_fingerprint():
            # The stored credentials were tested: that is news about the connector itself.
            stored.record_test(False, outcome.message, form.instance.last_test_at,
                               parts=outcome.parts, detail=outcome.detail)
            stored.save(update_fields=["last_test_at", "last_test_ok", "last_test_message",
                                       "last_test_outcome", "updated_at"])
        messages.error(request, outcome.message)
        messages.warning(request, _(
            "Er is niets gewijzigd: de opgeslagen gegevens, de opties en de planning blijven "
            "zoals ze waren. Alleen een geslaagde test vervangt het opgeslagen Account-id en de "
            "toegangscode."))
        typed = {name: value for name, value in form.cleaned_data.items()
                 if name != "access_code"}
        return self.render(request, KoppelingForm(instance=stored, initial=typed), stored)

    def render(self, request, form, df_settings, *, unsaved: bool = False) -> TemplateResponse:
        try:
            df_settings.access_code  # noqa: B018  (only whether it can be read)
            code_unreadable = False
        except crypto.DecryptionError:
            code_unreadable = True
        context = self.page_context(
            request,
            title=_("DigitaleFactuur koppeling"),
            form=form,
            df_settings=df_settings,
            locked=form.locked,
            lock_reason=df_settings.refusal(Purpose.OPTIONS),
            code_unreadable=code_unreadable,
            test_action=TEST_ACTION,
            save_run_action=SAVE_RUN_ACTION,
            save_preview_action=SAVE_PREVIEW_ACTION,
            unsaved=unsaved,
            # "Koppeling uitvoeren", "Voorbeeld" and the log: run_views.py, runs.py.
            run_panel=runs.run_panel(df_settings, request.user),
            health=connector_health(DigitaleFactuurSettings.load()),
        )
        return TemplateResponse(request, self.template_name, context)


@method_decorator(never_cache, name="dispatch")
class ApiHelpView(_Page, TemplateView):
    """"Waar kan ik mijn API-gegevens vinden?": the manual's four steps."""

    template_name = "digitalefactuur/api_help.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                **self.page_context(self.request, title=_("Waar kan ik mijn API-gegevens "
                                                          "vinden?"))}
